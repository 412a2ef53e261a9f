// The verification catalogue through the built CLI: exit codes, verdict lines and report messages per incident.
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { gzipBytes, makeSqlite, makeTar, sha256Sums, sqliteBytes, type TarEntry } from '../helpers/fixtures.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await mkdir(ws.file('scratch'));
});
afterEach(async () => {
  await ws.cleanup();
});

async function run(config: string, args: string[]): Promise<{ exitCode: number; verdictLine: string; report: any }> {
  await ws.write('rearguard.yml', config);
  const result = await runCli([...args, '--json', 'r.json'], { cwd: ws.dir });
  return { ...result, report: existsSync(ws.file('r.json')) ? await ws.readJson('r.json') : undefined };
}

const checksOf = (report: any): any[] => report.stages[0].units[0].artifacts[0].checks;
const checkOf = (report: any, id: string): any => checksOf(report).find((c: any) => c.id === id);

async function goodArchive(file: string): Promise<string> {
  const files: Record<string, string | Buffer> = {
    'database.sql.gz': gzipBytes('CREATE TABLE t (x);\n'.repeat(50)),
    'app.sqlite3': await sqliteBytes(ws.dir),
    'MANIFEST.json': '{"version":1}',
  };
  return makeTar(file, { entries: { ...files, SHA256SUMS: sha256Sums(files) } });
}

// The unit copies a prepared archive into place, so that `fresh` sees a file written by this run.
const orchestrateConfig = (restoreLevel = 'error'): string => `version: 1
stages:
  - name: app
    units:
      - name: app-files
        run: [cp, prepared.tar.gz, out/app-1.tar.gz]
        timeout: 1m
        artifacts:
          - path: out/app-*.tar.gz
            archive: { expect: [database.sql.gz, MANIFEST.json] }
            restore:
              sqlite: "**/*.sqlite3"
              gzip: "**/*.gz"
              json: "**/*.json"
              sha256sums: SHA256SUMS
              command: [test, -s, database.sql.gz]
              scratch: scratch
              level: ${restoreLevel}
            command: [gzip, -t, "{artifact}"]
`;

describe('orchestrate over the catalogue', () => {
  it('a sound archive passes archive, restore and command, in DESIGN order, and leaves no scratch', async () => {
    await goodArchive(ws.file('prepared.tar.gz'));
    await mkdir(ws.file('out'));
    const { exitCode, verdictLine, report } = await run(orchestrateConfig(), ['orchestrate']);
    expect(checksOf(report).map((c: any) => [c.id, c.status])).toEqual([
      ['exists', 'ok'],
      ['fresh', 'ok'],
      ['archive', 'ok'],
      ['restore', 'ok'],
      ['command', 'ok'],
    ]);
    expect(exitCode).toBe(0);
    expect(verdictLine).toMatch(/^verdict: ok/);
    expect(checkOf(report, 'restore').message).toContain('sha256sums: 3 file(s) match SHA256SUMS');
    expect(await readdir(ws.file('scratch'))).toEqual([]);
  });

  it('a truncated upload fails archive, and restore is not attempted', async () => {
    await makeTar(ws.file('prepared.tar.gz'), {
      entries: { 'database.sql.gz': gzipBytes(Array.from({ length: 3000 }, (_, i) => `row ${i * 7919}`).join('\n')), 'MANIFEST.json': '{}' },
      truncateAt: 0.5,
    });
    await mkdir(ws.file('out'));
    const { exitCode, verdictLine, report } = await run(orchestrateConfig(), ['orchestrate']);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical/);
    expect(checkOf(report, 'archive')).toMatchObject({ status: 'failed' });
    expect(checkOf(report, 'archive').message).toContain('truncated');
    expect(checkOf(report, 'restore')).toMatchObject({ status: 'skipped', message: 'not run: archive failed' });
    expect(report.stages[0].units[0].message).toContain('but verification failed: archive:');
  });

  it('an inner SHA256SUMS mismatch at level warning gives partial (exit 1)', async () => {
    const files = { 'database.sql.gz': gzipBytes('x'), 'MANIFEST.json': '{}' };
    await makeTar(ws.file('prepared.tar.gz'), {
      entries: { ...files, 'app.sqlite3': await sqliteBytes(ws.dir), SHA256SUMS: sha256Sums({ ...files, 'MANIFEST.json': '{"changed":true}' }) },
    });
    await mkdir(ws.file('out'));
    const { exitCode, verdictLine, report } = await run(orchestrateConfig('warning'), ['orchestrate']);
    expect(exitCode).toBe(1);
    expect(verdictLine).toMatch(/^verdict: partial/);
    expect(checkOf(report, 'restore').status).toBe('warning');
    expect(checkOf(report, 'restore').message).toMatch(/MANIFEST\.json hashes to [0-9a-f]{64}, SHA256SUMS says/);
  });
});

const inPlaceConfig = (artifact: string): string => `version: 1
stages:
  - name: s
    units:
      - name: made-by-a-timer
        run: ["false"]
        artifacts:
${artifact
  .split('\n')
  .map((line) => `          ${line}`)
  .join('\n')}
`;

describe('verify and restore-test over the catalogue', () => {
  it('verify: a corrupted SQLite backup fails with integrity_check problems in the report', async () => {
    await makeSqlite(ws.file('backups/db-1.sqlite3'), { corrupt: 'page' });
    const { exitCode, report } = await run(inPlaceConfig('- path: backups/db-*.sqlite3\n  max_age: 1h\n  sqlite: true'), ['verify']);
    expect(exitCode).toBe(2);
    const sqlite = checkOf(report, 'sqlite');
    expect(sqlite.status).toBe('failed');
    expect(sqlite.message).toMatch(/corrupted|malformed/);
    expect(await readdir(ws.file('backups'))).toEqual(['db-1.sqlite3']);
  });

  it('verify: a backup older than max_age fails, and restore is not part of verify', async () => {
    await goodArchive(ws.file('backups/app-1.tar.gz'));
    const old = new Date(Date.now() - 30 * 3_600_000);
    await utimes(ws.file('backups/app-1.tar.gz'), old, old);
    const { exitCode, report } = await run(
      inPlaceConfig('- path: backups/app-*.tar.gz\n  max_age: 26h\n  archive: true\n  restore: { json: "*.json" }'),
      ['verify'],
    );
    expect(exitCode).toBe(2);
    expect(checksOf(report).map((c: any) => c.id)).toEqual(['exists', 'max_age', 'archive']);
    expect(checkOf(report, 'max_age').message).toMatch(/is 30h00m old .* older than max_age 26h00m/);
  });

  it('restore-test: an archive with "../", absolute and symlink-out entries is refused and writes nothing outside', async () => {
    const entries: TarEntry[] = [
      { path: 'MANIFEST.json', body: '{}' },
      { path: '../../escaped.txt', body: 'owned' },
      { path: '/tmp/rearguard-e2e-absolute.txt', body: 'owned' },
      { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' },
    ];
    await makeTar(ws.file('backups/app-1.tar.gz'), { entries });
    const { exitCode, verdictLine, report } = await run(
      inPlaceConfig('- path: backups/app-*.tar.gz\n  max_age: 1h\n  restore: { json: "*.json", scratch: scratch }'),
      ['restore-test'],
    );
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical/);
    const restore = checkOf(report, 'restore');
    expect(restore.message).toContain('refused to restore');
    expect(restore.message).toContain('3 unsafe entries');
    expect(restore.details).toEqual(
      expect.arrayContaining([
        '../../escaped.txt: path climbs out with ".."',
        '/tmp/rearguard-e2e-absolute.txt: absolute path',
        'etc: symbolic link to the absolute path /etc',
      ]),
    );
    expect(existsSync(ws.file('escaped.txt'))).toBe(false);
    expect(existsSync(ws.file('../escaped.txt'))).toBe(false);
    expect(existsSync('/tmp/rearguard-e2e-absolute.txt')).toBe(false);
    expect(await readdir(ws.file('scratch'))).toEqual([]);
  });

  it('restore-test: SIGTERM during a restore command removes the scratch folder and exits 2', async () => {
    await goodArchive(ws.file('backups/app-1.tar.gz'));
    await ws.write(
      'rearguard.yml',
      inPlaceConfig('- path: backups/app-*.tar.gz\n  restore: { command: [sleep, "30"], scratch: scratch }'),
    );
    const child = startCli(['restore-test', '--json', 'r.json'], { cwd: ws.dir });
    for (let i = 0; i < 200 && (await readdir(ws.file('scratch'))).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(ws.file('scratch'))).length).toBe(1);
    child.kill('SIGTERM');
    const result = toCliResult(await child);
    expect(result.exitCode).toBe(2);
    expect(result.verdictLine).toContain('aborted by SIGTERM');
    expect(await readdir(ws.file('scratch'))).toEqual([]);
    expect(checkOf(await ws.readJson('r.json'), 'restore').status).toBe('failed');
  });
});

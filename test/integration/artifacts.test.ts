// Artifact checks through the CLI: the incidents rearguard exists to catch.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function run(config: string, args: string[] = ['orchestrate']): Promise<{ exitCode: number; verdictLine: string; report: any; stdout: string }> {
  await ws.write('rearguard.yml', config);
  const result = await runCli([...args, '--json', 'r.json'], { cwd: ws.dir });
  return { ...result, report: existsSync(ws.file('r.json')) ? await ws.readJson('r.json') : undefined };
}

const checkOf = (report: any, id: string): any => report.stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === id);

describe('the incidents', () => {
  it('a script that printed "Checksum mismatch!" but exited 0 is not a success', async () => {
    // The real incident: the upload was corrupt, the script noticed, printed, and exited 0 anyway.
    await ws.write('backup.sh', `#!/bin/sh
mkdir -p out
head -c 4096 /dev/urandom > out/app.tar.gz
echo "0000000000000000000000000000000000000000000000000000000000000000  app.tar.gz" > out/app.tar.gz.sha256
echo "Checksum mismatch!"
exit 0
`);
    const { exitCode, verdictLine, report } = await run(`version: 1
stages:
  - name: app
    units:
      - name: api-gateway
        run: [sh, backup.sh]
        artifacts:
          - path: out/app.tar.gz
            checksum: sidecar
`);
    expect(exitCode).not.toBe(0);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical/);
    const unit = report.stages[0].units[0];
    expect(unit).toMatchObject({ status: 'failed', exit_code: 0 });
    expect(unit.message).toMatch(/exited with 0, but verification failed: checksum: checksum mismatch: app\.tar\.gz hashes to [0-9a-f]{64}, expected 0{64}/);
    expect(unit.log_tail).toContain('Checksum mismatch!');
  });

  it('a zero-byte dump fails exists', async () => {
    const { exitCode, report } = await run(`version: 1
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'mkdir -p out && : > out/db.sql.gz']
        artifacts:
          - path: out/db.sql.gz
`);
    expect(exitCode).toBe(2);
    expect(checkOf(report, 'exists')).toMatchObject({ status: 'failed', message: expect.stringMatching(/db\.sql\.gz is empty \(0 bytes\)/) });
    expect(checkOf(report, 'fresh')).toMatchObject({ status: 'skipped', message: 'not run: exists failed' });
  });

  it('a unit that "succeeds" without writing a new backup fails fresh', async () => {
    await ws.write('out/db-old.sql.gz', 'yesterday\n');
    const past = new Date(Date.now() - 26 * 3600_000);
    await utimes(ws.file('out/db-old.sql.gz'), past, past);
    const { exitCode, report } = await run(`version: 1
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'echo "nothing to do"']
        artifacts:
          - path: out/db-*.sql.gz
`);
    expect(exitCode).toBe(2);
    expect(checkOf(report, 'fresh').message).toMatch(/db-old\.sql\.gz was last written at .* before the unit started at .*: the unit did not produce a new backup/);
  });

  it('the newest glob match is the artifact checked', async () => {
    const { exitCode, report } = await run(`version: 1
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'mkdir -p out && echo old > out/d-1.gz && sleep 1.1 && echo newest > out/d-2.gz']
        artifacts:
          - path: out/d-*.gz
`);
    expect(exitCode).toBe(0);
    expect(report.stages[0].units[0].artifacts[0].path).toBe(ws.file('out/d-2.gz'));
  });

  it('a dump below size.min fails with both sizes in bytes', async () => {
    const { exitCode, report } = await run(`version: 1
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'mkdir -p out && echo tiny > out/d.gz']
        artifacts:
          - path: out/d.gz
            size: { min: 1MB }
`);
    expect(exitCode).toBe(2);
    expect(checkOf(report, 'size').message).toBe('5 B is below the minimum 976.6 KiB (1000000 bytes)');
  });
});

describe('checksum', () => {
  const unitWith = (checksum: string): string => `version: 1
stages:
  - name: s
    units:
      - name: u
        run: [sh, -c, 'true']
        artifacts:
          - path: out/a.bin
            fresh: false
            checksum: ${checksum}
`;
  const content = Buffer.from('backup payload\n');
  const digest = createHash('sha256').update(content).digest('hex');

  beforeEach(async () => {
    await ws.write('out/a.bin', content);
  });

  it.each([
    ['sha256sum text mode', `${digest}  a.bin\n`],
    ['sha256sum binary mode', `${digest} *a.bin\n`],
    ['a bare hash', `${digest}\n`],
    ['uppercase hex', `${digest.toUpperCase()}  a.bin\n`],
  ])('accepts a sidecar in %s', async (_name, sidecar) => {
    await ws.write('out/a.bin.sha256', sidecar);
    const { exitCode, report } = await run(unitWith('sidecar'));
    expect(exitCode).toBe(0);
    expect(report.stages[0].units[0].artifacts[0].sha256).toBe(digest);
  });

  it.each([
    ['missing', undefined, /sidecar .*a\.bin\.sha256 is missing/],
    ['empty', '', /is garbled/],
    ['garbled', 'not a hash at all\n', /is garbled: expected "<64 hex digits> {2}a\.bin", got "not a hash at all"/],
    ['for another file', `${digest}  b.bin\n`, /names "b\.bin", not a\.bin/],
    ['wrong', `${'f'.repeat(64)}  a.bin\n`, /checksum mismatch/],
  ])('fails on a %s sidecar', async (_name, sidecar, message) => {
    if (sidecar !== undefined) await ws.write('out/a.bin.sha256', sidecar);
    const { exitCode, report } = await run(unitWith('sidecar'));
    expect(exitCode).toBe(2);
    expect(checkOf(report, 'checksum').message).toMatch(message);
  });

  it('checks against a manifest entry', async () => {
    await ws.write('out/SHA256SUMS', `${'a'.repeat(64)}  other.bin\n${digest}  a.bin\n`);
    expect((await run(unitWith('{ manifest: out/SHA256SUMS }'))).exitCode).toBe(0);
    await writeFile(ws.file('out/SHA256SUMS'), `${'a'.repeat(64)}  other.bin\n`);
    const missing = await run(unitWith('{ manifest: out/SHA256SUMS }'));
    expect(missing.exitCode).toBe(2);
    expect(checkOf(missing.report, 'checksum').message).toMatch(/manifest .*SHA256SUMS has no entry for a\.bin/);
  });
});

describe('pre-flight', () => {
  it('an error-level failure exits 2 and starts no unit', async () => {
    const { exitCode, verdictLine, report } = await run(`version: 1
preflight:
  - disk: .
    min_free: 8PB
  - command: [sh, -c, 'echo "db down" >&2; exit 2']
  - command: [sh, -c, 'exit 0']
stages:
  - name: s
    units:
      - name: u
        run: [sh, -c, 'touch unit-ran']
`);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical \(exit 2\): pre-flight failed: .*free, need at least 7\.11 PiB \(min_free\): free some space first; sh -c echo "db down" >&2; exit 2: exited with 2; no unit was started$/);
    expect(existsSync(ws.file('unit-ran'))).toBe(false);
    expect(report.preflight.map((p: any) => p.status)).toEqual(['failed', 'failed', 'ok']);
    expect(report.preflight[1].details).toEqual(['db down']);
    expect(report.stages[0].units[0]).toMatchObject({ status: 'skipped', message: 'not started: pre-flight failed' });
  });

  it('a warning-level failure still runs the units and answers partial', async () => {
    const { exitCode, report } = await run(`version: 1
preflight:
  - command: [sh, -c, 'exit 1']
    level: warning
stages:
  - name: s
    units:
      - name: u
        run: [sh, -c, 'touch unit-ran']
`);
    expect(exitCode).toBe(1);
    expect(existsSync(ws.file('unit-ran'))).toBe(true);
    expect(report.preflight[0]).toMatchObject({ status: 'warning', level: 'warning' });
  });

  it('a pre-flight command that hangs is stopped by its timeout', async () => {
    const started = Date.now();
    const { exitCode, report } = await run(`version: 1
preflight:
  - command: [sleep, '600']
    timeout: 1s
stages:
  - name: s
    units:
      - { name: u, run: ['true'] }
`);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(exitCode).toBe(2);
    expect(report.preflight[0].message).toBe('sleep 600: timed out after 1.0s');
  });
});

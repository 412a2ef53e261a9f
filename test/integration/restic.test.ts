// End to end with real restic: a unit backs up into a temp repository (password from a file, never argv),
// and an artifact command check runs `restic check --read-data`, which catches a corrupted pack.
import { execa } from 'execa';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';

const available = requireTool('restic', 'apt-get install restic');
const PASSWORD = 'correct-horse-battery-staple-4711';

describe.runIf(available)('restic repositories', () => {
  let ws: Workspace;
  let repo: string;
  let passwordFile: string;
  beforeAll(async () => {
    ws = await makeWorkspace();
    repo = ws.file('repo');
    passwordFile = await ws.write('restic-password', `${PASSWORD}\n`);
    await ws.write('data/notes/1.txt', 'first note\n'.repeat(200));
    await ws.write('data/notes/2.txt', 'second note\n'.repeat(300));
    await execa('restic', ['-r', repo, '--no-cache', 'init'], { env: { RESTIC_PASSWORD_FILE: passwordFile } });
  });
  afterAll(async () => {
    await ws?.cleanup();
  });

  const config = `version: 1
stages:
  - name: restic
    units:
      - name: restic-notes
        run: [restic, -r, <repo>, --no-cache, backup, --host, rearguard-test, data]
        env: { RESTIC_PASSWORD_FILE: <password-file> }
        timeout: 2m
        artifacts:
          - path: <repo>/snapshots/*
            command:
              run: [restic, -r, <repo>, --no-cache, --password-file, <password-file>, check, --read-data]
              timeout: 1m
`;
  const write = () => ws.write('rearguard.yml', config.replaceAll('<repo>', repo).replaceAll('<password-file>', passwordFile));

  it('orchestrate: backs up, then restic check --read-data passes; the password appears nowhere', async () => {
    await write();
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    const report = await ws.readJson('r.json');
    const unit = report.stages[0].units[0];
    expect(unit.artifacts[0].checks.map((c: any) => [c.id, c.status])).toEqual([
      ['exists', 'ok'],
      ['fresh', 'ok'],
      ['command', 'ok'],
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.verdictLine).toMatch(/^verdict: ok/);
    const log = await readFile(unit.log, 'utf8');
    expect(log).toContain('snapshot');
    for (const text of [result.stdout, result.stderr, JSON.stringify(report), log]) expect(text).not.toContain(PASSWORD);
  });

  it('verify: a corrupted pack file fails restic check --read-data, with restic\'s words in the report', async () => {
    await write();
    const dataDir = path.join(repo, 'data');
    const packs = (await readdir(dataDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(packs.length).toBeGreaterThan(0);
    const pack = path.join(packs[0]!.parentPath, packs[0]!.name);
    const bytes = await readFile(pack);
    for (let i = 100; i < 164; i += 1) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await writeFile(pack, bytes);
    const result = await runCli(['verify', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(result.verdictLine).toMatch(/^verdict: critical/);
    const check = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'command');
    expect(check.status).toBe('failed');
    expect(check.message).toMatch(/check --read-data: exited with 1; exit 0 was expected/);
    expect(check.details.join('\n')).toMatch(/errors|does not match|Fatal/i);
  });
});

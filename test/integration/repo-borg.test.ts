// borg archives as artifacts, end to end with real borg: located, fresh, sized, extracted and checked by borg itself.
import { leaveSecondOf } from '../helpers/clock.js';
import { execa } from 'execa';
import { readFile, rm, stat, chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repositoryCheck } from '../../checks/repository.js';
import { borgSource, type BorgOptions } from '../../sources/borg.js';
import type { VerifyDepth } from '../../src/contract/source.js';
import { createExec } from '../../src/exec/index.js';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { entriesOf, flipBytes, listFiles, REPO_PASSWORD, writeRandomFiles } from '../helpers/repos.js';
import { waitForLines } from '../helpers/wait-line.js';

const available = requireTool('borg', 'apt-get install borgbackup');

describe.runIf(available)('borg artifacts', () => {
  let ws: Workspace;
  let repo: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    ws = await makeWorkspace();
    repo = ws.file('repo');
    const passphraseFile = await ws.write('borg-passphrase', `${REPO_PASSWORD}\n`);
    // Passphrase files only their owner reads, as they should be (others reading one is a run warning).
    await chmod(passphraseFile, 0o600);
    await chmod(await ws.write('wrong-passphrase', 'not-the-passphrase\n'), 0o600);
    await writeRandomFiles(ws.file('data/blobs'), 3, 20_000);
    await ws.write('data/config.json', '{"app": "notes"}\n');
    await ws.write('scratch/.keep', '');
    // borg's cache and security folders live in the workspace, so nothing is left in HOME.
    env = { BORG_PASSCOMMAND: `cat ${passphraseFile}`, BORG_BASE_DIR: ws.file('borg-base'), PATH: process.env.PATH ?? '' };
    await execa('borg', ['init', '--encryption', 'repokey', repo], { env });
  });
  afterEach(async () => {
    await ws?.cleanup();
  });

  const create = (name: string): Promise<unknown> => execa('borg', ['create', `${repo}::${name}`, 'data'], { env, cwd: ws.dir });
  const writeConfig = (run: string, passphrase = 'borg-passphrase'): Promise<string> =>
    ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: borg
    units:
      - name: notes
        run: ${run}
        env: { BORG_PASSCOMMAND: "cat borg-passphrase", BORG_BASE_DIR: borg-base }
        critical: true
        timeout: 2m
        artifacts:
          - borg: { repo: repo, passphrase_file: ${passphrase}, prefix: notes- }
            size: { max_shrink: 50% }
            restore: { json: "data/config.json", scratch: scratch }
`,
    );
  const cli = (args: string[]) => runCli(args, { cwd: ws.dir, env: { BORG_BASE_DIR: ws.file('borg-base') } });
  const backupRun = '[sh, -c, "borg create repo::notes-$(date +%s%N) data"]';

  it('orchestrate: the archive the unit made passes fresh, size and an extract whose rules run on the extracted files', async () => {
    await create('other-1');
    await writeConfig(backupRun);
    const result = await cli(['orchestrate', '--json', 'r.json']);
    const report = await ws.readJson('r.json');
    const artifact = report.stages[0].units[0].artifacts[0];
    expect(artifact.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['exists', 'ok'],
      ['fresh', 'ok'],
      ['size', 'ok'],
      ['restore', 'ok'],
    ]);
    expect(result.exitCode).toBe(0);
    expect(artifact.path).toMatch(/^borg .*repo archive notes-\d+$/);
    expect(artifact.bytes).toBe(60_000 + '{"app": "notes"}\n'.length);
    expect(artifact.checks[3].message).toMatch(/^restored \d+ entries .* archive notes-\d+ into a private scratch folder; json: 1 file\(s\) ok$/);
    expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
    expect(await entriesOf(repo)).not.toContain('lock.exclusive');
    const log = await readFile(report.stages[0].units[0].log, 'utf8');
    for (const text of [result.stdout, result.stderr, JSON.stringify(report), log]) expect(text).not.toContain(REPO_PASSWORD);
  });

  it('a unit that exits 0 without making an archive fails fresh; a shrunk archive fails size', async () => {
    await create('notes-1');
    // borg keeps archive times to the second, and fresh compares whole seconds.
    await leaveSecondOf();
    await writeConfig('[sh, -c, "echo nothing to do"]');
    const stale = await cli(['orchestrate', '--json', 'r.json']);
    expect(stale.exitCode).toBe(2);
    const fresh = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'fresh');
    expect(fresh.message).toMatch(/archive notes-1 was last written at .* the unit did not produce a new backup/);

    await writeConfig(backupRun);
    expect((await cli(['orchestrate'])).exitCode).toBe(0);
    await rm(ws.file('data/blobs'), { recursive: true });
    const shrunk = await cli(['orchestrate', '--json', 'r.json']);
    expect(shrunk.exitCode).toBe(2);
    const size = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'size');
    expect(size.message).toMatch(/shrank .* max_shrink is 50%/);
  });

  it('a wrong passphrase or a missing repository fails with words to act on, exit 2', async () => {
    await create('notes-1');
    await writeConfig(backupRun, 'wrong-passphrase');
    const wrong = await cli(['verify', '--json', 'r.json']);
    expect(wrong.exitCode).toBe(2);
    expect((await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks[0].message).toMatch(
      /borg repository .*repo: wrong passphrase .*check the passphrase file .*wrong-passphrase/,
    );
    await rm(repo, { recursive: true });
    await writeConfig(backupRun);
    const missing = await cli(['verify', '--json', 'r.json']);
    expect(missing.exitCode).toBe(2);
    expect((await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks[0].message).toMatch(
      /borg repository .*repo cannot be opened: .*does not exist.*check that the repository exists and is reachable from this machine/,
    );
  });

  it('borg missing from PATH is named as such (borg runs through env, for TZ=UTC0)', async () => {
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(ws.file('bin'));
    await symlink('/usr/bin/env', ws.file('bin/env'));
    const exec = createExec({ hosts: {}, stateDir: ws.file('state'), cgroups: false });
    try {
      const location = await borgSource.locate({ options: { repo }, exec, signal: new AbortController().signal, env: { PATH: ws.file('bin') }, timeoutMs: 10_000 });
      expect(location).toEqual({ found: false, message: `borg is not installed on this machine (env: borg: No such file or directory); install borgbackup there` });
    } finally {
      await exec.close();
    }
  });

  it('SIGTERM during a restore: exit 2, the scratch folder is gone and borg holds no lock', async () => {
    await create('notes-1');
    await ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: borg
    units:
      - name: notes
        run: [sh, -c, "exit 0"]
        critical: true
        artifacts:
          - borg: { repo: repo, passphrase_file: borg-passphrase }
            restore: { command: [sh, -c, "pwd > ${ws.file('restoring')}; exec sleep 60"], scratch: scratch }
`,
    );
    const child = startCli(['restore-test'], { cwd: ws.dir, env: { BORG_BASE_DIR: ws.file('borg-base') } });
    await waitForLines(ws.file('restoring'), 1);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(2);
    expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
    expect((await entriesOf(repo)).filter((name) => name.startsWith('lock'))).toEqual([]);
  });

  it('the repository check: a sound repository passes; a damaged segment fails borg check', async () => {
    await create('notes-1');
    const options: BorgOptions = { repo, passphraseFile: ws.file('borg-passphrase') };
    const check = async (depth: VerifyDepth) => {
      const exec = createExec({ hosts: {}, stateDir: ws.file('state'), cgroups: false });
      const ctx = { options, exec, signal: new AbortController().signal, env: { PATH: process.env.PATH ?? '', BORG_BASE_DIR: ws.file('borg-base') }, timeoutMs: 60_000 };
      try {
        const location = await borgSource.locate(ctx);
        if (!location.found) throw new Error(location.message);
        const backup = location.backup;
        const target = {
          unit: 'notes',
          pattern: 'borg',
          located: backup,
          unitTimeoutMs: 60_000,
          facts: {},
          history: { read: async () => [] },
          source: { verify: (d: VerifyDepth) => borgSource.verify!(ctx, backup, d) },
        };
        return await repositoryCheck.run({ ...ctx, options: depth, command: 'verify', runId: 'r', hosts: {}, systemctl: [], tempDir: ws.dir, now: Date.now }, target);
      } finally {
        await exec.close();
      }
    };
    expect(await check({ readData: { percent: 100 } })).toMatchObject({ status: 'ok', message: 'borg check --verify-data of the newest archive: no problems found' });
    const segments = await listFiles(path.join(repo, 'data'));
    const sized = await Promise.all(segments.map(async (file) => ({ file, size: (await stat(file)).size })));
    await flipBytes(sized.sort((a, b) => b.size - a.size)[0]!.file, 2000);
    const damaged = await check({});
    expect(damaged.status).toBe('failed');
    expect(damaged.message).toMatch(/^borg check of the newest archive found the repository damaged: .*checksum mismatch.*borg check --repair/);
    expect(damaged.details?.join('\n')).toMatch(/errors found/);
  });
});

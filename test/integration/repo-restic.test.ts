// restic snapshots as artifacts, end to end with real restic: located, fresh, sized, restored and checked by restic itself.
import { leaveSecondOf } from '../helpers/clock.js';
import { readFile, rm, stat, unlink, chmod } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repositoryCheck } from '../../checks/repository.js';
import { resticSource, type ResticOptions } from '../../sources/restic.js';
import type { VerifyDepth } from '../../src/contract/source.js';
import { createExec } from '../../src/exec/index.js';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { entriesOf, flipBytes, initRestic, REPO_PASSWORD, resticBackup, resticPacks, writeRandomFiles } from '../helpers/repos.js';
import { waitForLines } from '../helpers/wait-line.js';

const available = requireTool('restic', 'apt-get install restic');

describe.runIf(available)('restic artifacts', () => {
  let ws: Workspace;
  let repo: string;
  let passwordFile: string;
  beforeEach(async () => {
    ws = await makeWorkspace();
    repo = ws.file('repo');
    passwordFile = await ws.write('restic-password', `${REPO_PASSWORD}\n`);
    // A password file only its owner reads, as it should be (others reading it is a run warning).
    await chmod(passwordFile, 0o600);
    await ws.write('wrong-password', 'not-the-password\n');
    await writeRandomFiles(ws.file('data/blobs'), 3, 20_000);
    await ws.write('data/config.json', '{"app": "notes"}\n');
    await ws.write('scratch/.keep', '');
    await initRestic(repo, passwordFile);
  });
  afterEach(async () => {
    await ws?.cleanup();
  });

  /** A unit that runs `run` and whose artifact is the repository's newest snapshot. */
  const writeConfig = (run: string, artifact: Record<string, string> = {}): Promise<string> =>
    ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: restic
    units:
      - name: notes
        run: ${run}
        env: { RESTIC_PASSWORD_FILE: restic-password }
        critical: true
        timeout: 2m
        artifacts:
          - restic: { repo: repo, password_file: ${artifact.password ?? 'restic-password'}, tags: [notes] }
            size: { max_shrink: 50% }
            restore: { json: "**/config.json", scratch: scratch }
`,
    );
  const backupRun = '[restic, --repo, repo, --no-cache, backup, --tag, notes, data]';

  it('orchestrate: the snapshot the unit made passes fresh, size and a restore whose rules run on the restored files', async () => {
    await writeConfig(backupRun);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    const report = await ws.readJson('r.json');
    const artifact = report.stages[0].units[0].artifacts[0];
    expect(artifact.checks.map((c: any) => [c.id, c.status])).toEqual([
      ['exists', 'ok'],
      ['fresh', 'ok'],
      ['size', 'ok'],
      ['restore', 'ok'],
    ]);
    expect(result.exitCode).toBe(0);
    expect(artifact.path).toMatch(/^restic .*repo snapshot [0-9a-f]{8}$/);
    expect(artifact.bytes).toBe(60_000 + '{"app": "notes"}\n'.length);
    expect(artifact.checks[3].message).toMatch(/^restored \d+ entries \(.*\) of restic .* snapshot [0-9a-f]{8} into a private scratch folder; json: 1 file\(s\) ok$/);
    expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
    expect(await entriesOf(path.join(repo, 'locks'))).toEqual([]);
    const log = await readFile(report.stages[0].units[0].log, 'utf8');
    for (const text of [result.stdout, result.stderr, JSON.stringify(report), log]) expect(text).not.toContain(REPO_PASSWORD);
  });

  it('a unit that exits 0 without making a snapshot fails fresh: exit 2 for a critical unit', async () => {
    await resticBackup(repo, passwordFile, [ws.file('data')], ['--tag', 'notes']);
    // fresh compares whole seconds: the unit starts once the clock has left the snapshot's second.
    await leaveSecondOf();
    await writeConfig('[sh, -c, "echo backup done"]');
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const fresh = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'fresh');
    expect(fresh.status).toBe('failed');
    expect(fresh.message).toMatch(/snapshot [0-9a-f]{8} was last written at .* before the unit started .*: the unit did not produce a new backup/);
  });

  it('a snapshot that shrank past max_shrink fails size against the recorded history', async () => {
    await writeConfig(backupRun);
    expect((await runCli(['orchestrate'], { cwd: ws.dir })).exitCode).toBe(0);
    await rm(ws.file('data/blobs'), { recursive: true });
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const size = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'size');
    expect(size.status).toBe('failed');
    expect(size.message).toMatch(/shrank .* max_shrink is 50%/);
  });

  it('a wrong password or a missing repository fails with words to act on, exit 2, and the password nowhere', async () => {
    await resticBackup(repo, passwordFile, [ws.file('data')], ['--tag', 'notes']);
    await writeConfig(backupRun, { password: 'wrong-password' });
    const wrong = await runCli(['verify', '--json', 'r.json'], { cwd: ws.dir });
    expect(wrong.exitCode).toBe(2);
    const exists = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks[0];
    expect(exists.status).toBe('failed');
    expect(exists.message).toMatch(/restic repository .*repo: wrong password .*; check the password file .*wrong-password/);

    await rm(repo, { recursive: true });
    await writeConfig(backupRun);
    const missing = await runCli(['verify', '--json', 'r.json'], { cwd: ws.dir });
    expect(missing.exitCode).toBe(2);
    const gone = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks[0];
    expect(gone.message).toMatch(/restic repository .*repo cannot be opened: .*check that the repository exists and is reachable from this machine/);
    for (const text of [wrong.stdout, missing.stdout]) expect(text).not.toContain(REPO_PASSWORD);
  });

  it('restore-test: a restore rule that fails on the restored files fails the restore', async () => {
    await ws.write('data/config.json', '{"app": ');
    await resticBackup(repo, passwordFile, [ws.file('data')], ['--tag', 'notes']);
    await writeConfig(backupRun);
    const result = await runCli(['restore-test', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const restore = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'restore');
    expect(restore.status).toBe('failed');
    expect(restore.message).toMatch(/but json failed: json: .*config\.json does not parse as JSON/);
    expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
  });

  it('SIGTERM during a restore: exit 2, the scratch folder and restic locks are gone', async () => {
    await resticBackup(repo, passwordFile, [ws.file('data')], ['--tag', 'notes']);
    await ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: restic
    units:
      - name: notes
        run: [sh, -c, "exit 0"]
        critical: true
        artifacts:
          - restic: { repo: repo, password_file: restic-password }
            restore: { command: [sh, -c, "pwd > ${ws.file('restoring')}; exec sleep 60"], scratch: scratch }
`,
    );
    const child = startCli(['restore-test'], { cwd: ws.dir });
    const [scratchDir] = await waitForLines(ws.file('restoring'), 1);
    expect(scratchDir).toContain(ws.file('scratch'));
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(2);
    expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
    expect(await entriesOf(path.join(repo, 'locks'))).toEqual([]);
  });

  it('audit shows each repository artifact\'s last check: none yet, then ok, then the damage the last run found', async () => {
    await ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: restic
    units:
      - name: notes
        run: ${backupRun}
        env: { RESTIC_PASSWORD_FILE: restic-password }
        timeout: 2m
        artifacts:
          - restic: { repo: repo, password_file: restic-password, tags: [notes] }
            check: true
`,
    );
    const lastCheck = async () => {
      await runCli(['audit', '--json', 'audit.json'], { cwd: ws.dir });
      return (await ws.readJson('audit.json')).preflight.filter((f: any) => f.id === 'last-check');
    };
    const target = 'notes: restic ' + repo + ' matching tags notes';
    expect(await lastCheck()).toEqual([
      expect.objectContaining({ target, status: 'warning', message: `${target}: no check: result in the last 0 run(s); run rearguard verify to check the repository` }),
    ]);
    expect((await runCli(['orchestrate'], { cwd: ws.dir })).exitCode).toBe(0);
    expect(await lastCheck()).toEqual([
      expect.objectContaining({ target, status: 'ok', message: expect.stringMatching(/: last check ok \S+ ago \(run \S+, orchestrate\): restic check: no errors were found$/) }),
    ]);
    const sized = await Promise.all((await resticPacks(repo)).map(async (p) => ({ p, n: (await stat(p)).size })));
    await unlink(sized.sort((a, b) => b.n - a.n)[0]!.p);
    expect((await runCli(['verify'], { cwd: ws.dir })).exitCode).not.toBe(0);
    expect(await lastCheck()).toEqual([
      expect.objectContaining({ target, status: 'warning', message: expect.stringMatching(/: last check failed \S+ ago \(run \S+, verify\): restic check found the repository damaged/) }),
    ]);
  });

  describe('the repository check (restic check through the source)', () => {
    const check = async (options: ResticOptions, readData?: { percent: number }) => {
      const exec = createExec({ hosts: {}, stateDir: ws.file('state'), cgroups: false });
      const ctx = { options, exec, signal: new AbortController().signal, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 60_000 };
      try {
        const location = await resticSource.locate(ctx);
        if (!location.found) throw new Error(location.message);
        const backup = location.backup;
        const target = {
          unit: 'notes',
          pattern: 'restic',
          located: backup,
          unitTimeoutMs: 60_000,
          facts: {},
          history: { read: async () => [] },
          source: { verify: (depth: VerifyDepth) => resticSource.verify!(ctx, backup, depth) },
        };
        const depth = readData ? { readData } : {};
        return await repositoryCheck.run({ ...ctx, options: depth, command: 'verify', runId: 'r', hosts: {}, systemctl: [], tempDir: ws.dir, now: Date.now }, target);
      } finally {
        await exec.close();
      }
    };
    // The largest pack holds the file data; the small one holds the trees that listing and stats read.
    const largestPack = async (at: string): Promise<string> => {
      const sized = await Promise.all((await resticPacks(at)).map(async (p) => ({ p, n: (await stat(p)).size })));
      return sized.sort((a, b) => b.n - a.n)[0]!.p;
    };
    const options = (): ResticOptions => ({ repo, passwordFile, tags: [], paths: [] });

    it('passes a sound repository, and reading all data catches a flipped pack that the structure check cannot see', async () => {
      await resticBackup(repo, passwordFile, [ws.file('data')]);
      const sound = await check(options(), { percent: 100 });
      expect(sound).toMatchObject({ status: 'ok', message: 'restic check, --read-data-subset=100%: no errors were found' });
      await flipBytes(await largestPack(repo), 200);
      const damaged = await check(options(), { percent: 100 });
      expect(damaged.status).toBe('failed');
      expect(damaged.message).toMatch(/^restic check, --read-data-subset=100% found the repository damaged: .*restic repair/);
      expect(damaged.details?.join('\n')).toMatch(/does not match|repository contains errors/);
      expect(await entriesOf(path.join(repo, 'locks'))).toEqual([]);
    });

    it('a missing data pack fails the structure check alone', async () => {
      await resticBackup(repo, passwordFile, [ws.file('data')]);
      await unlink(await largestPack(repo));
      const result = await check(options());
      expect(result.status).toBe('failed');
      expect(result.message).toMatch(/found the repository damaged/);
    });
  });
});

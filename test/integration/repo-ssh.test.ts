// restic, borg and tree artifacts with `host:`, end to end over a real sshd on loopback: located, restored as a tar stream, secrets nowhere.
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { waitForLines } from '../helpers/wait-line.js';
import { requireTool } from '../helpers/require-tool.js';
import { entriesOf, flipBytes, initRestic, REPO_PASSWORD, resticBackup, resticPacks, writeRandomFiles } from '../helpers/repos.js';
import { hostYaml, resolvedHostFor, startSshd, type Sshd } from '../helpers/sshd.js';
import { judgeTarStream, restoreTarStream } from '../../sources/tar-stream-restore.js';
import { createExec } from '../../src/exec/index.js';

const available =
  requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']) && requireTool('restic', 'apt-get install restic') && requireTool('borg', 'apt-get install borgbackup');

// The host keeps its clock in New York; rearguard runs in Tokyo (set per run): 14 hours apart.
const HOST_TZ = 'America/New_York';
const LOCAL_TZ = 'Asia/Tokyo';

describe.runIf(available)('repository artifacts on an SSH host', () => {
  let sshd: Sshd;
  let hostDir: string;
  let argvLog: string;
  let truncateFlag: string;
  let stallFlag: string;
  let ws: Workspace;

  beforeAll(async () => {
    hostDir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-host-'));
    argvLog = path.join(hostDir, 'argv.log');
    truncateFlag = path.join(hostDir, 'truncate');
    stallFlag = path.join(hostDir, 'stall');
    // Wrappers first on the host's PATH: they record every argv the host sees, then run the real tool.
    // With the flag file, restic dump's tar is cut after 3000 bytes and the wrapper still exits 0.
    const bin = path.join(hostDir, 'bin');
    await mkdir(bin);
    for (const tool of ['restic', 'borg']) {
      await writeFile(
        path.join(bin, tool),
        `#!/bin/sh
printf '%s\\n' "${tool} $*" >> ${argvLog}
if [ "${tool}" = restic ] && [ -e ${truncateFlag} ] && echo " $* " | grep -q ' dump '; then /usr/bin/restic "$@" | head -c 3000; exit 0; fi
if [ "${tool}" = restic ] && [ -e ${stallFlag} ] && echo " $* " | grep -q ' dump '; then /usr/bin/restic "$@" | { head -c 3000; echo started > ${stallFlag}.streaming; sleep 120; cat; }; exit 0; fi
exec /usr/bin/${tool} "$@"
`,
        { mode: 0o755 },
      );
    }
    sshd = await startSshd({
      setEnv: { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, TZ: HOST_TZ, BORG_BASE_DIR: path.join(hostDir, 'borg-base') },
    });
  });
  afterAll(async () => {
    await sshd?.stop();
    if (hostDir) await rm(hostDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    ws = await makeWorkspace();
    await chmod(await ws.write('secret', `${REPO_PASSWORD}\n`), 0o600);
    await chmod(await ws.write('wrong', 'not-the-password\n'), 0o600);
    await writeRandomFiles(ws.file('data/blobs'), 3, 20_000);
    await ws.write('data/config.json', '{"app": "notes"}\n');
    await ws.write('scratch/.keep', '');
    await rm(argvLog, { force: true });
    await rm(truncateFlag, { force: true });
    await rm(stallFlag, { force: true });
    await rm(`${stallFlag}.streaming`, { force: true });
  });
  afterEach(async () => {
    await ws?.cleanup();
  });

  const config = (run: string, artifact: string, extra = ''): Promise<string> =>
    ws.write(
      'rearguard.yml',
      `version: 1
hosts:
${hostYaml(sshd, 'nas')}stages:
  - name: s
    units:
      - name: notes
        run: ${run}
        critical: true
        timeout: 2m
        artifacts:
          - ${artifact}
            size: { max_shrink: 50% }
            restore: { json: "**/config.json", scratch: scratch }
${extra}`,
    );
  const cli = (args: string[]) => runCli(args, { cwd: ws.dir, env: { TZ: LOCAL_TZ, BORG_BASE_DIR: path.join(hostDir, 'borg-base') } });
  const checksOf = (report: any) => report.stages[0].units[0].artifacts[0].checks.map((c: any) => [c.id, c.status]);
  const checkOf = (report: any, id: string) => report.stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === id);
  /** Every place a secret must not reach: the CLI's output, the report, the unit log, and every argv the host saw. */
  const expectNoSecret = async (result: { stdout: string; stderr: string }, report: any): Promise<void> => {
    const log = await readFile(report.stages[0].units[0].log, 'utf8').catch(() => '');
    const argv = await readFile(argvLog, 'utf8');
    expect(argv).not.toBe('');
    for (const text of [result.stdout, result.stderr, JSON.stringify(report), log, argv]) expect(text).not.toContain(REPO_PASSWORD);
  };

  describe('restic', () => {
    let repo: string;
    beforeEach(async () => {
      repo = ws.file('repo');
      await initRestic(repo, ws.file('secret'));
    });
    const artifact = (password = 'secret', check = true) => `restic: { repo: ${repo}, password_file: ${ws.file(password)}, host: nas, tags: [notes] }${check ? `
            check: true` : ''}`;
    const backupRun = `[restic, --repo, ${'repo'}, --no-cache, --password-file, secret, backup, --tag, notes, data]`;

    it('orchestrate over the host: fresh, size, check, and a restore streamed by restic dump whose rules run on the files; no secret anywhere', async () => {
      await config(backupRun, artifact());
      const result = await cli(['orchestrate', '--json', 'r.json']);
      const report = await ws.readJson('r.json');
      expect(checksOf(report), JSON.stringify(report.stages[0].units[0].artifacts[0].checks)).toEqual([
        ['exists', 'ok'],
        ['fresh', 'ok'],
        ['size', 'ok'],
        ['repository', 'ok'],
        ['restore', 'ok'],
      ]);
      expect(result.exitCode).toBe(0);
      expect(report.stages[0].units[0].artifacts[0].path).toMatch(/^restic .*repo on nas snapshot [0-9a-f]{8}$/);
      const restore = checkOf(report, 'restore');
      expect(restore.message).toMatch(/^restored \d+ entries \(58\.6 KiB\) of restic .* on nas snapshot [0-9a-f]{8} into a private scratch folder; json: 1 file\(s\) ok$/);
      expect(restore.details[0]).toMatch(/^restic dump streamed snapshot [0-9a-f]{8} from nas as a tar of \d+ entries, read to its end$/);
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
      expect(await entriesOf(path.join(repo, 'locks'))).toEqual([]);
      expect(await readFile(argvLog, 'utf8')).toMatch(/^restic --repo .* --no-lock dump --archive tar [0-9a-f]{64} \/$/m);
      await expectNoSecret(result, report);
    });

    it('the password file reaches the host even when rearguard itself runs with the same RESTIC_PASSWORD_FILE', async () => {
      await resticBackup(repo, ws.file('secret'), [ws.file('data')], ['--tag', 'notes']);
      await config('[sh, -c, "exit 0"]', artifact());
      const result = await runCli(['verify', '--json', 'r.json'], { cwd: ws.dir, env: { TZ: LOCAL_TZ, RESTIC_PASSWORD_FILE: ws.file('secret') } });
      expect(checksOf(await ws.readJson('r.json'))).toEqual([
        ['exists', 'ok'],
        ['size', 'ok'],
        ['repository', 'ok'],
      ]);
      expect(result.exitCode).toBe(0);
    });

    it('a wrong password fails clearly over the host: exit 2, the host named, the password nowhere', async () => {
      await resticBackup(repo, ws.file('secret'), [ws.file('data')], ['--tag', 'notes']);
      await config('[sh, -c, "exit 0"]', artifact('wrong'));
      const result = await cli(['verify', '--json', 'r.json']);
      expect(result.exitCode).toBe(2);
      const report = await ws.readJson('r.json');
      expect(checkOf(report, 'exists')).toMatchObject({
        status: 'failed',
        message: expect.stringMatching(/^restic repository .*repo on nas: wrong password .*; check the password file .*\/wrong$/),
      });
      await expectNoSecret(result, report);
    });

    it('restore-test: a tar stream cut short while restic exits 0 fails the restore; a damaged pack fails it naming restic', async () => {
      await resticBackup(repo, ws.file('secret'), [ws.file('data')], ['--tag', 'notes']);
      // Without check:, so the restore itself meets the damage.
      await config('[sh, -c, "exit 0"]', artifact('secret', false));
      await writeFile(truncateFlag, '');
      const cut = await cli(['restore-test', '--json', 'r.json']);
      expect(cut.exitCode).toBe(2);
      expect(checkOf(await ws.readJson('r.json'), 'restore').message).toMatch(
        /^restoring restic .* failed: the tar stream of restic snapshot [0-9a-f]{8} is incomplete or damaged although the tool exited 0: .*\(truncated, after \d+ entries, at byte 3000\); nothing is proven restorable$/,
      );
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
      await unlink(truncateFlag);

      const sized = await Promise.all((await resticPacks(repo)).map(async (p) => ({ p, n: (await stat(p)).size })));
      await flipBytes(sized.sort((a, b) => b.n - a.n)[0]!.p, 200);
      const broken = await cli(['restore-test', '--json', 'r.json']);
      expect(broken.exitCode).toBe(2);
      expect(checkOf(await ws.readJson('r.json'), 'restore').message).toMatch(/^restoring restic .* failed: restic repository .* on nas: restic exited with \d: .*; the tar stream stopped after \d+ entries/);
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
    });
    it('SIGTERM while the tar streams from the host: exit 2, the scratch folder is gone, nothing of the dump is left on the host', async () => {
      await resticBackup(repo, ws.file('secret'), [ws.file('data')], ['--tag', 'notes']);
      await config('[sh, -c, "exit 0"]', artifact('secret', false));
      await writeFile(stallFlag, '');
      const child = startCli(['restore-test'], { cwd: ws.dir, env: { TZ: LOCAL_TZ } });
      await waitForLines(`${stallFlag}.streaming`, 1);
      expect((await entriesOf(ws.file('scratch'))).length).toBe(2);
      child.kill('SIGTERM');
      expect((await child).exitCode).toBe(2);
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
      const left = async () => (await execa('pgrep', ['-f', `${stallFlag}|dump --archive tar`], { reject: false })).exitCode === 0;
      for (let i = 0; i < 100 && (await left()); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await left()).toBe(false);
      expect(await entriesOf(path.join(repo, 'locks'))).toEqual([]);
    });
  });

  describe('borg', () => {
    let repo: string;
    let env: Record<string, string>;
    beforeEach(async () => {
      repo = ws.file('repo');
      env = { BORG_PASSCOMMAND: `cat ${ws.file('secret')}`, BORG_BASE_DIR: path.join(hostDir, 'borg-base'), PATH: process.env.PATH ?? '' };
      await execa('borg', ['init', '--encryption', 'repokey', repo], { env });
    });
    const artifact = (passphrase = 'secret') => `borg: { repo: ${repo}, passphrase_file: ${ws.file(passphrase)}, host: nas, prefix: notes- }
            check: true`;
    const backupRun = '[sh, -c, "BORG_PASSCOMMAND=\'cat secret\' borg create repo::notes-$(date +%s%N) data"]';

    it(`orchestrate over a host in another time zone (${HOST_TZ}, rearguard in ${LOCAL_TZ}): the archive is fresh, and restored through borg export-tar`, async () => {
      await config(backupRun, artifact());
      const started = Date.now();
      const result = await cli(['orchestrate', '--json', 'r.json']);
      const report = await ws.readJson('r.json');
      expect(checksOf(report), JSON.stringify(report.stages[0].units[0].artifacts[0].checks)).toEqual([
        ['exists', 'ok'],
        ['fresh', 'ok'],
        ['size', 'ok'],
        ['repository', 'ok'],
        ['restore', 'ok'],
      ]);
      expect(result.exitCode).toBe(0);
      // The archive's time is the real instant, not one shifted by either zone.
      const written = Date.parse(/written at (\S+)/.exec(checkOf(report, 'fresh').message)![1]!);
      expect(Math.abs(written - started)).toBeLessThan(60_000);
      const restore = checkOf(report, 'restore');
      expect(restore.message).toMatch(/^restored \d+ entries .* archive notes-\d+ into a private scratch folder; json: 1 file\(s\) ok$/);
      expect(restore.details[0]).toMatch(/^borg export-tar streamed archive notes-\d+ from nas as a tar of \d+ entries, read to its end$/);
      expect(await readFile(argvLog, 'utf8')).toMatch(/^borg export-tar --bypass-lock .*repo::notes-\d+ -$/m);
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);
      expect((await entriesOf(repo)).filter((name) => name.startsWith('lock'))).toEqual([]);
      await expectNoSecret(result, report);
    });

    it('a wrong passphrase fails clearly over the host: exit 2, the host named, the passphrase nowhere', async () => {
      await execa('borg', ['create', `${repo}::notes-1`, 'data'], { env, cwd: ws.dir });
      await config('[sh, -c, "exit 0"]', artifact('wrong'));
      const result = await cli(['verify', '--json', 'r.json']);
      expect(result.exitCode).toBe(2);
      const report = await ws.readJson('r.json');
      expect(checkOf(report, 'exists')).toMatchObject({
        status: 'failed',
        message: expect.stringMatching(/^borg repository .*repo on nas: wrong passphrase .*check the passphrase file .*\/wrong$/),
      });
      await expectNoSecret(result, report);
    });
  });

  it('a tar stream from the host that turns out to be garbage is cut off at once: the producer on the host ends', async () => {
    const exec = createExec({ hosts: { nas: resolvedHostFor(sshd) }, stateDir: ws.file('state'), cgroups: false });
    try {
      const dir = ws.file('garbage');
      await mkdir(dir);
      const started = Date.now();
      const spec = { argv: ['sh', '-c', 'exec yes rearguard'], env: {}, timeoutMs: 60_000, killGraceMs: 2_000, label: 'yes' };
      const streamed = await restoreTarStream(exec, 'nas', spec, dir);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(streamed.result.timedOut).toBe(false);
      expect(judgeTarStream('garbage', streamed, () => 'yes stopped')?.message).toMatch(/^yes stopped; the tar stream stopped after 0 entries \(not a tar archive/);
      // Nothing of it is left running on the host.
      const left = async () => (await execa('pgrep', ['-f', '^yes rearguard$'], { reject: false })).exitCode === 0;
      for (let i = 0; i < 50 && (await left()); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await left()).toBe(false);
    } finally {
      await exec.close();
    }
  });

  describe('tree', () => {
    it('a mirror on the host: located, compared with its source there, and restored as a tar stream', async () => {
      await execa('rsync', ['-a', `${ws.file('data')}/`, `${ws.file('mirror')}/`]);
      // rsync -a keeps the source's times: the stamp the job touches says when the copy completed.
      await config(
        '[sh, -c, "rsync -a --delete data/ mirror/ && touch mirror.done"]',
        `tree: { path: ${ws.file('mirror')}, stamp: ${ws.file('mirror.done')}, compare_with: ${ws.file('data')}, host: nas }
            check: true`,
      );
      const result = await cli(['orchestrate', '--json', 'r.json']);
      const report = await ws.readJson('r.json');
      expect(checksOf(report), JSON.stringify(report.stages[0].units[0].artifacts[0].checks)).toEqual([
        ['exists', 'ok'],
        ['fresh', 'ok'],
        ['size', 'ok'],
        ['repository', 'ok'],
        ['restore', 'ok'],
      ]);
      expect(result.exitCode).toBe(0);
      expect(report.stages[0].units[0].artifacts[0].path).toBe(`tree ${ws.file('mirror')} on nas (4 files)`);
      expect(checkOf(report, 'repository').message).toMatch(/^the mirror matches .*: 0 missing, 0 extra, 0 changed/);
      expect(checkOf(report, 'restore').details[0]).toMatch(/^tar streamed the mirror from nas: \d+ entries, read to its end$/);
      expect(await entriesOf(ws.file('scratch'))).toEqual(['.keep']);

      // The source gains a file the mirror lacks: the comparison over the host fails the critical unit.
      await ws.write('data/late.txt', 'late\n');
      await config('[sh, -c, "exit 0"]', `tree: { path: ${ws.file('mirror')}, compare_with: ${ws.file('data')}, host: nas }
            check: true`);
      const missing = await cli(['verify', '--json', 'r.json']);
      expect(missing.exitCode).toBe(2);
      expect(checkOf(await ws.readJson('r.json'), 'repository').message).toMatch(/^the mirror differs from .*: 1 missing, 0 extra, 0 changed/);
    });
  });
});

// Fault: what rearguard runs as root can be changed by another user (a writable config, program or env_file, or a writable folder above it); a secret others can read.
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkFileTrust } from '../../src/state/file-trust.js';
import { IN_CI } from '../helpers/require-tool.js';

const root = process.getuid?.() === 0;
if (!root && IN_CI) throw new Error('the file trust tests need root (they chown files to another user)');
const suite = root ? describe : describe.skip;
if (!root) console.warn('skipping: the file trust tests need root (they chown files to another user)');

const NOBODY = 65534;
let dir: string;
beforeEach(async () => {
  // A private 0700 root-owned folder, so the temp folder's own modes do not take part.
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-trust-'));
  await chmod(dir, 0o755);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(relative: string, mode: number, uid = 0): Promise<string> {
  const target = path.join(dir, relative);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, 'x\n');
  await chmod(target, mode);
  await chown(target, uid, 0);
  return target;
}

const errors = (findings: ReturnType<typeof checkFileTrust>) => findings.filter((f) => f.level === 'error');

suite('file trust (StrictModes) as root', () => {
  it('accepts root-owned files in root-owned folders, and files owned by another user (the owner is trusted)', async () => {
    expect(checkFileTrust(await file('ok.yml', 0o644), 'config', { asRoot: true })).toEqual([]);
    expect(checkFileTrust(await file('theirs.sh', 0o755, NOBODY), 'program', { asRoot: true })).toEqual([]);
  });

  it('refuses a file writable by every user or by a non-root group, naming the file, owner and mode', async () => {
    const world = await file('world.yml', 0o666);
    const [finding] = errors(checkFileTrust(world, 'config', { asRoot: true }));
    expect(finding).toMatchObject({ at: world, mode: '0666', owner: expect.stringContaining('uid 0') });
    expect(finding!.message).toBe(`refusing config file ${world}: it is writable by every user (owner ${finding!.owner}, mode 0666); expected only root and its owner to be able to change what rearguard runs as root: chmod go-w ${world}`);
    const group = await file('group.sh', 0o775);
    await chown(group, 0, 100);
    expect(errors(checkFileTrust(group, 'program', { asRoot: true }))[0]!.message).toContain('writable by group 100');
  });

  it('refuses a file in a folder another user owns or can write, naming the folder', async () => {
    const program = await file('bin/backup.sh', 0o755);
    await chown(path.dirname(program), NOBODY, 0);
    const [owned] = errors(checkFileTrust(program, 'program', { asRoot: true }));
    expect(owned).toMatchObject({ at: path.dirname(program) });
    expect(owned!.message).toMatch(/the folder .*\/bin is writable by its owner .*uid 65534.*who could replace the file/);
    await chown(path.dirname(program), 0, 0);
    await chmod(path.dirname(program), 0o777);
    expect(errors(checkFileTrust(program, 'program', { asRoot: true }))[0]!.message).toContain('is writable by every user');
    // A sticky folder (like /tmp) stops others from replacing what they do not own.
    await chmod(path.dirname(program), 0o1777);
    expect(checkFileTrust(program, 'program', { asRoot: true })).toEqual([]);
  });

  it('follows a link to the real file and judges that', async () => {
    const target = await file('real/env', 0o666);
    const link = path.join(dir, 'env-link');
    await symlink(target, link);
    const [finding] = errors(checkFileTrust(link, 'env_file', { asRoot: true }));
    expect(finding).toMatchObject({ file: link, at: target });
    expect(finding!.message).toContain(`env_file ${link} (-> ${target})`);
  });

  it('warns about a secret readable by others, without refusing it', async () => {
    const secret = await file('pass', 0o644);
    const findings = checkFileTrust(secret, 'secret', { asRoot: true });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ level: 'warning', mode: '0644' });
    expect(findings[0]!.message).toContain('is readable by every user');
    expect(checkFileTrust(await file('pass600', 0o600), 'secret', { asRoot: true })).toEqual([]);
  });

  it('checks nothing when not running as root (the owner already controls everything it runs)', async () => {
    expect(checkFileTrust(await file('world.yml', 0o666), 'config', { asRoot: false })).toEqual([]);
  });
});

suite('file trust end to end: the CLI refuses what others can change', () => {
  it('refuses a config file others can write, and a run: program in a folder another user owns, naming file, owner and mode', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const config = path.join(dir, 'rearguard.yml');
    await writeFile(config, `version: 1\nstate_dir: ./state\nstages:\n  - name: s\n    units:\n      - name: u\n        run: ["true"]\n`);
    await chmod(config, 0o666);
    for (const command of ['config validate', 'orchestrate', 'audit']) {
      const result = await runCli([...command.split(' '), '-c', config], { cwd: dir });
      expect(result.exitCode, `${command}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(config);
      expect(result.stderr).toMatch(/0666/);
    }

    await chmod(config, 0o644);
    const program = await file('theirs/backup.sh', 0o755);
    await writeFile(program, '#!/bin/sh\nexit 0\n');
    await chown(path.dirname(program), NOBODY, 0);
    await writeFile(config, `version: 1\nstate_dir: ./state\nstages:\n  - name: s\n    units:\n      - name: u\n        run: [${program}]\n`);
    const refused = await runCli(['orchestrate', '-c', config], { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(program);
    expect(refused.stderr).toMatch(/nobody/);

    await chown(path.dirname(program), 0, 0);
    const ran = await runCli(['orchestrate', '-c', config], { cwd: dir });
    expect(ran.exitCode, ran.stdout).toBe(0);
  });
});

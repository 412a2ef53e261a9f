// The package as users install it: real `npm pack`, `npm install -g` into a temporary prefix, then the
// installed CLI run by an unprivileged user from another folder, without writing into the installed package.
import { execa } from 'execa';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { asUnprivileged, cleanEnv, giveToUnprivileged } from '../helpers/as-user.js';
import { requireTool } from '../helpers/require-tool.js';

const available = requireTool('npm', 'install Node.js with npm') && (process.getuid?.() !== 0 || requireTool('setpriv', 'apt-get install util-linux'));
const version = (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// Every file of a tree with its size and mtime: equal before and after means nothing was written there.
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const rows: string[] = [];
  for (const entry of entries) {
    const full = path.join(entry.parentPath, entry.name);
    const info = await stat(full).catch(() => undefined);
    rows.push(`${path.relative(dir, full)} ${info?.size ?? '?'} ${info?.mtimeMs ?? '?'}`);
  }
  return rows.sort();
}

describe.runIf(available)('the npm package', () => {
  let tmp: string;
  let prefix: string;
  let installed: string;
  let packed: Array<{ path: string }>;
  let user: { home: string; env: Record<string, string> };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rearguard-package-'));
    await chmod(tmp, 0o755);
    // Packed from a copy: prepack rebuilds dist/, which the other test files are running meanwhile.
    const source = path.join(tmp, 'source');
    const skip = new Set(['node_modules', '.git', 'dist', 'test/.cache'].map((p) => path.join(ROOT, p)));
    await cp(ROOT, source, { recursive: true, filter: (src) => !skip.has(src) });
    await symlink(path.join(ROOT, 'node_modules'), path.join(source, 'node_modules'));
    const pack = await execa('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: source, env: cleanEnv() });
    // prepack's own output (the build, the man page) comes before npm's JSON.
    const json = pack.stdout.slice(pack.stdout.search(/^\[/m));
    const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = info!.files;
    prefix = path.join(tmp, 'prefix');
    await execa(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--allow-scripts=better-sqlite3', path.join(tmp, info!.filename)],
      { cwd: tmp, env: cleanEnv() },
    );
    installed = path.join(prefix, 'lib/node_modules/rearguard');
    const home = path.join(tmp, 'home');
    await mkdir(home);
    await giveToUnprivileged(home);
    // The user's PATH finds the installed rearguard and the same node that runs this suite.
    user = { home, env: cleanEnv({ HOME: home, TMPDIR: home, PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`, CI: 'true' }) };
  }, 600_000);
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const runInstalled = (args: string[], cwd: string) =>
    execa(asUnprivileged(['rearguard', ...args])[0]!, asUnprivileged(['rearguard', ...args]).slice(1), { cwd, env: user.env, reject: false });

  it('ships the compiled CLI, the man page and the demo; no source maps, no sources, no demo output', () => {
    const files = packed.map((f) => f.path);
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/man/rearguard.1');
    expect(files).toContain('examples/demo/rearguard.yml');
    expect(files).toContain('examples/scripts/app-backup.mjs');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(files.filter((f) => /^examples\/demo\/(backups|reports|\.rearguard)\//.test(f))).toEqual([]);
  });

  it('installs its native module and man page globally; --version and --help work for an unprivileged user', async () => {
    expect((await stat(path.join(prefix, 'share/man/man1/rearguard.1'))).isFile()).toBe(true);
    const versionRun = await runInstalled(['--version'], user.home);
    expect(versionRun.stderr).toBe('');
    expect(versionRun.stdout.trim()).toBe(version);
    const helpRun = await runInstalled(['--help'], user.home);
    expect(helpRun.exitCode).toBe(0);
    expect(helpRun.stdout).toMatch(/^Usage: rearguard/);
    expect(helpRun.stdout).toContain('Examples:');
  });

  it('rearguard demo runs from another folder, in a fresh temp folder and in a named one, and never writes into the package', async () => {
    const before = await snapshot(installed);
    const fresh = await runInstalled(['demo'], user.home);
    expect(fresh.exitCode, `${fresh.stdout}\n${fresh.stderr}`).toBe(0);
    const folder = /demo: copied the demo into (\S+)/.exec(fresh.stdout)?.[1];
    expect(folder?.startsWith(user.home)).toBe(true);
    expect(fresh.stdout.trim().split('\n').at(-1)).toBe('verdict: ok (exit 0): all 2 unit(s) and 10 check(s) passed');

    const named = path.join(user.home, 'my-demo');
    const first = await runInstalled(['demo', named], user.home);
    expect(first.exitCode, `${first.stdout}\n${first.stderr}`).toBe(0);
    // A second run in the same folder reuses the copy and its history. The SQLite copy is named to the
    // second and never overwritten, so the second run starts in the next second of the clock.
    await sleep(1000 - (Date.now() % 1000) + 10);
    const again = await runInstalled(['demo', 'my-demo'], user.home);
    expect(again.exitCode, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toContain(`demo: running the demo already in ${named} again`);
    const archives = (await readdir(path.join(named, 'backups/app'))).sort();
    expect(archives.filter((f) => /^app-\d{8}T\d{9}Z\.tar\.gz$/.test(f)).length).toBeGreaterThanOrEqual(1);
    expect(archives.filter((f) => f.startsWith('.'))).toEqual([]);
    const verify = await runInstalled(['restore-test', '-c', path.join(named, 'rearguard.yml')], user.home);
    expect(verify.exitCode, verify.stdout).toBe(0);

    expect(await snapshot(installed)).toEqual(before);
  });
});

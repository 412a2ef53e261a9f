// A throwaway ZFS pool on a 64 MiB file, served by zfs-fuse (started here when no ZFS daemon answers, stopped after).
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from './process.js';
import { IN_CI, requireTool } from './require-tool.js';

/** True when zfs-fuse can run here: its programs, root, and /dev/fuse (under CI a missing one fails). */
export function requireZfs(): boolean {
  const tools = ['zfs-fuse', 'zfs', 'zpool'].every((tool) => requireTool(tool, 'apt-get install zfs-fuse (and run the suite as root with /dev/fuse)'));
  if (!tools) return false;
  if (process.getuid?.() === 0) return true;
  if (IN_CI) throw new Error('ZFS tests need root (zfs-fuse mounts through /dev/fuse); run the suite as root');
  console.warn('skipping: ZFS tests need root');
  return false;
}

/** A pool mounted under `dir`, its datasets at `<dir>/mnt/<name>`. */
export interface ZfsPool {
  name: string;
  dir: string;
  /** Where `<pool>/<dataset>` is mounted. */
  mountOf(dataset: string): string;
  zfs(args: string[]): Promise<string>;
  /** Creates `<pool>/<dataset>`. */
  createDataset(dataset: string): Promise<void>;
  /** Writes a file of `bytes` random bytes into a dataset. */
  writeFile(dataset: string, name: string, bytes: number): Promise<void>;
  /** Takes `<pool>/<dataset>@<snapshot>`. */
  snapshot(dataset: string, snapshot: string): Promise<void>;
  destroy(): Promise<void>;
}

const run = async (file: string, args: string[]): Promise<string> => {
  const result = await execa(file, args, { reject: false, all: true });
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} exited ${result.exitCode}: ${result.all}`);
  return String(result.all ?? '');
};

/** Where a daemon started by the tests records its pid: shared, so any test file can stop it when it is the last. */
const DAEMON_PID_FILE = path.join(os.tmpdir(), 'rearguard-test-zfs-fuse.pid');

const daemonAnswers = async (): Promise<boolean> => (await execa('zpool', ['list', '-H'], { reject: false })).exitCode === 0;

/** Starts zfs-fuse if needed and creates a pool; destroy() removes the pool, and the last one stops a daemon the tests started. */
export async function createZfsPool(): Promise<ZfsPool> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-zfs-'));
  if (!(await daemonAnswers())) {
    await run('zfs-fuse', ['--pidfile', DAEMON_PID_FILE, '--no-kstat-mount']);
    // zfs-fuse forks before its socket answers: wait for the answer, the fixed point, not for a time.
    for (let i = 0; i < 100 && !(await daemonAnswers()); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const name = `rg${Math.random().toString(36).slice(2, 8)}`;
  const disk = path.join(dir, 'disk');
  await writeFile(disk, '');
  await run('truncate', ['-s', '64M', disk]);
  await run('zpool', ['create', '-m', path.join(dir, 'mnt'), name, disk]);
  const zfs = (args: string[]): Promise<string> => run('zfs', args);
  return {
    name,
    dir,
    mountOf: (dataset) => path.join(dir, 'mnt', dataset),
    zfs,
    createDataset: async (dataset) => void (await zfs(['create', `${name}/${dataset}`])),
    async writeFile(dataset, file, bytes) {
      await writeFile(path.join(dir, 'mnt', dataset, file), randomBytes(bytes));
    },
    snapshot: async (dataset, snapshot) => void (await zfs(['snapshot', `${name}/${dataset}@${snapshot}`])),
    async destroy() {
      // zfs-fuse answers "pool is busy" for a moment after the last use of a mount; it is retried until it is not.
      let destroyed = await execa('zpool', ['destroy', '-f', name], { reject: false, all: true });
      for (let i = 0; i < 50 && destroyed.exitCode !== 0 && /busy/.test(String(destroyed.all)); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        destroyed = await execa('zpool', ['destroy', '-f', name], { reject: false, all: true });
      }
      // The last pool out stops the daemon a test started, whichever test file started it.
      const others = (await execa('zpool', ['list', '-H', '-o', 'name'], { reject: false })).stdout.trim();
      const pid = Number((await readFile(DAEMON_PID_FILE, 'utf8').catch(() => '')).trim());
      if (others === '' && pid > 0) {
        process.kill(pid, 'SIGTERM');
        while (pidAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 100));
        await rm(DAEMON_PID_FILE, { force: true });
      }
      await rm(dir, { recursive: true, force: true });
      if (destroyed.exitCode !== 0) throw new Error(`zpool destroy ${name} failed: ${destroyed.all}`);
    },
  };
}

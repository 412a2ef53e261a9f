// A small real tmpfs for fault tests (ENOSPC at a size limit, not a mock): mounted on a fresh folder, unmounted by unmount().
import { execa } from 'execa';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IN_CI } from './require-tool.js';

/** A mounted tmpfs. */
export interface Tmpfs {
  dir: string;
  unmount(): Promise<void>;
}

/** True when this process may mount (root, and a kernel with tmpfs): the fault tests that need it skip otherwise. */
export async function canMountTmpfs(): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = await mountTmpfs('64k');
    await probe.unmount();
    return true;
  } catch {
    return false;
  }
}

/** Whether tmpfs fault tests can run; under CI a missing capability fails, locally they skip saying why. */
export async function requireTmpfs(): Promise<boolean> {
  if (await canMountTmpfs()) return true;
  const why = 'mounting a tmpfs needs root (CAP_SYS_ADMIN); run the fault suite as root or in the CI container';
  if (IN_CI) throw new Error(why);
  console.warn(`skipping: ${why}`);
  return false;
}

/**
 * Mounts a tmpfs of `size` (mount's syntax: "1m", "256k") on `dir` (created when missing), or on a new
 * folder under the system temp dir; `inodes` caps its files and folders (ENOSPC once they are used up).
 * unmount() detaches it (lazily if something still holds it) and removes the folder when it made one.
 */
export async function mountTmpfs(size: string, options: { dir?: string; inodes?: number } = {}): Promise<Tmpfs> {
  const { dir, inodes } = options;
  const target = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'rearguard-tmpfs-')));
  if (dir) await mkdir(dir, { recursive: true });
  await execa('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755${inodes ? `,nr_inodes=${inodes}` : ''}`, 'tmpfs', target]);
  let mounted = true;
  return {
    dir: target,
    async unmount() {
      if (!mounted) return;
      mounted = false;
      const result = await execa('umount', [target], { reject: false });
      if (result.exitCode !== 0) await execa('umount', ['-l', target], { reject: false });
      if (!dir) await rm(target, { recursive: true, force: true });
    },
  };
}

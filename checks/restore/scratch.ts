// The private scratch folder a restore happens in: room checked first, 0700, always removed.
import { chmod, mkdtemp, readdir, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../../src/util/size.js';

/** Room for the tree plus filesystem overhead (blocks, directories). */
export function bytesNeeded(contentBytes: number, entries: number): number {
  return contentBytes + entries * 4096;
}

/** Says why a restore of `needed` bytes cannot happen under `base`, or undefined when it can. */
export async function checkScratchRoom(base: string, needed: number): Promise<string | undefined> {
  const info = await stat(base).catch(() => undefined);
  if (!info?.isDirectory()) return `scratch folder ${base} does not exist; create it or set restore.scratch to an existing folder`;
  const fs = await statfs(base);
  const free = fs.bavail * fs.bsize;
  return free < needed ? describeNoRoom(base, free, needed) : undefined;
}

/** Why a restore that needs `needed` bytes does not fit in the `free` bytes of `base`, and what to do. */
export function describeNoRoom(base: string, free: number, needed: number): string {
  return `not enough room to restore: ${base} has ${formatBytes(free)} free, the archive needs ${formatBytes(needed)} uncompressed; set restore.scratch to a larger filesystem`;
}

/** Makes a fresh folder only this user can enter (mkdtemp creates it 0700). */
export function makeScratch(base: string): Promise<string> {
  return mkdtemp(path.join(base, 'rearguard-restore-'));
}

/** Removes the scratch folder, even when a restored tree or a command left folders without write permission. */
export async function removeScratch(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  } catch {
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true, maxRetries: 2 });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeWritable(path.join(dir, entry.name));
  }
}

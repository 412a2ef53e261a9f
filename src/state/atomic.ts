// Atomic writes of state and reports: temp file in the same folder, fsync, rename.
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/** Writes `data` to `file` atomically (readers see the old or the new file, never half of one). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomicLib(file, data, { mode, fsync: true });
}

/**
 * Removes the temp files (`<name>.<digits>`, write-file-atomic's names) that a write into `dir` left when
 * its process was killed before the rename, for the final names `isFinal` accepts. Call only where no other
 * process writes those files at the same time (under the run lock). Returns the paths removed.
 */
export async function removeInterruptedWrites(dir: string, isFinal: (name: string) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const final = /^(.+)\.\d{1,10}$/.exec(name)?.[1];
    if (final === undefined || !isFinal(final)) continue;
    // Best effort: a temp file that cannot be removed is only clutter, never read as the real file.
    if (await rm(path.join(dir, name), { force: true }).then(() => true, () => false)) removed.push(path.join(dir, name));
  }
  return removed;
}

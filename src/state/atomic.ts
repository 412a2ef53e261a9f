// Atomic writes of state and reports: temp file in the same folder, fsync, rename.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/** Writes `data` to `file` atomically (readers see the old or the new file, never half of one). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomicLib(file, data, { mode, fsync: true });
}

/**
 * Removes the temp files (`<name>.<digits>`, write-file-atomic's names) that a write into `dir` left when its
 * process was killed before the rename: for the final names `isFinal` accepts, written since `since` (so a
 * rotated `report.json.1` older than the killed run is never taken for one). Call only where no other process
 * writes those files at the same time (under the run lock). Returns the paths removed.
 */
export async function removeInterruptedWrites(dir: string, isFinal: (name: string) => boolean, since: Date): Promise<string[]> {
  const removed: string[] = [];
  // Coarse file times (FAT keeps 2 s) may put a file written just after `since` a little before it.
  const from = since.getTime() - 2_000;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const final = /^(.+)\.\d{1,10}$/.exec(name)?.[1];
    if (final === undefined || !isFinal(final)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || !(info.mtimeMs >= from)) continue;
    // Best effort: a temp file that cannot be removed is only clutter, never read as the real file.
    if (await rm(file, { force: true }).then(() => true, () => false)) removed.push(file);
  }
  return removed;
}

// Atomic writes of state and reports: temp file in the same folder, fsync, rename.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/** Writes `data` to `file` atomically (readers see the old or the new file, never half of one). */
export async function writeFileAtomic(file: string, data: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomicLib(file, data, { mode, fsync: true });
}

// Streams a file through sha256 with constant memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { onAbort } from './abort-hub.js';

/** The hex sha256 of a file, read in 1 MiB chunks. */
export async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  // Through the abort hub, not pipeline's own signal option: one listener on the run's signal, however many files hash at once.
  const off = onAbort(signal, () => source.destroy(new DOMException('The operation was aborted', 'AbortError')));
  try {
    await pipeline(source, hash);
  } finally {
    off();
  }
  return hash.digest('hex');
}

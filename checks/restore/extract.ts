// Extracts an archive whose entries passed the policy into a scratch folder, with tar's own guards on as well.
import { createReadStream } from 'node:fs';
import { Unpack, type ReadEntry } from 'tar';
import { entrySegments } from './entry-policy.js';

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Extracts `file` into `dir`. Entries the policy would refuse are never written (the archive may change between reads). */
export function extractInto(file: string, dir: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('the run was aborted'));
    const refused: string[] = [];
    const unpack = new Unpack({
      cwd: dir,
      strict: true,
      preserveOwner: false,
      preservePaths: false,
      filter: (entryPath: string, entry) => {
        const read = entry as ReadEntry;
        const safe =
          ALLOWED_TYPES.has(read.type) &&
          entrySegments(entryPath) !== undefined &&
          !(read.type === 'SymbolicLink' && (read.linkpath ?? '').startsWith('/')) &&
          !(read.type === 'Link' && entrySegments(read.linkpath ?? '') === undefined);
        if (!safe) {
          refused.push(entryPath);
          return false;
        }
        // Owner may always read, write and traverse what is restored (so scratch can be removed); no setuid bits.
        const mode = read.mode ?? 0o644;
        read.mode = (mode & 0o777) | (read.type === 'Directory' ? 0o700 : 0o600);
        return true;
      },
    });
    const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
    const onAbort = (): void => {
      input.destroy();
      unpack.abort(new Error('the run was aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error?: Error): void => {
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else if (refused.length > 0) reject(new Error(`refused while extracting: ${refused.slice(0, 5).join(', ')}`));
      else resolve();
    };
    unpack.on('error', (error: Error) => done(error));
    unpack.on('close', () => done());
    input.on('error', (error) => done(error));
    input.pipe(unpack);
  });
}

// The file an ssh run writes to: a unit's log (appended) or a private capture file, read back in bounded pieces.
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { makeNonce } from './remote-wrapper.js';

/** An open output file and how to read what one attempt wrote to it. */
export interface SshOutput {
  /** The file: the unit's log, or the private capture file. */
  file: string;
  fd: number;
  /** Current end of the file: where the next attempt's output starts. */
  size(): number;
  /** Up to `max` bytes from `start`. */
  read(start: number, max: number): string;
  /** The last `max` bytes written since `start`. */
  tail(start: number, max: number): string;
  close(): void;
}

/** Opens `logFile` for appending, or a fresh capture file in `scratchDir` (removed on close). */
export function openSshOutput(logFile: string | undefined, scratchDir: string): SshOutput {
  const file = logFile ?? path.join(scratchDir, `out-${makeNonce()}`);
  const fd = openSync(file, 'a+', 0o600);
  const size = (): number => fstatSync(fd).size;
  const read = (start: number, max: number): string => {
    const length = Math.max(0, Math.min(max, size() - start));
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, start);
    return buffer.toString('utf8');
  };
  return {
    file,
    fd,
    size,
    read,
    tail: (start, max) => read(Math.max(start, size() - max), max),
    close() {
      closeSync(fd);
      if (!logFile) rmSync(file, { force: true });
    },
  };
}

// Fault injection at a fixed point: wait until a file or a stream shows a given line, never a random sleep.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Resolves with the first line of `stream` that matches; rejects when the stream ends first or after `timeoutMs`. */
export function waitForLine(stream: Readable, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${buffered}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const line = buffered.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) done(undefined, line);
    };
    const onEnd = (): void => done(new Error(`the stream ended before a line matching ${pattern}; got:\n${buffered}`));
    const done = (error?: Error, line?: string): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      if (error) reject(error);
      else resolve(line!);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
  });
}

/** Polls `file` until it holds `count` non-empty lines (pids written by a unit); returns them. */
export async function waitForLines(file: string, count: number, timeoutMs = 30_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`expected ${count} line(s) in ${file} within ${timeoutMs} ms, found ${lines.length}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

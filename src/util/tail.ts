// The last lines of a process's output or a log: what reports show of a failure.
import { open } from 'node:fs/promises';

/** Lines of a command's output kept in a check's details. */
export const OUTPUT_TAIL_LINES = 10;

/** The last non-empty line of a command's output, trimmed, or "(no output)". */
export function lastLine(output: string): string {
  return lastLines(output, 1)[0]?.trim() ?? '(no output)';
}

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string[] {
  return text.trim().split('\n').filter(Boolean).slice(-count);
}

/** The last `count` non-empty lines of a file, reading at most its last `maxBytes` (a log can be gigabytes). */
export async function readFileTail(file: string, count: number, maxBytes: number, keep: (line: string) => boolean = () => true): Promise<string[]> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    // A partial first line is not shown.
    if (length < size) lines.shift();
    return lines.filter((line) => line.trim() !== '' && keep(line)).slice(-count);
  } finally {
    await handle.close();
  }
}

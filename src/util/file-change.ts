// Whether a file is still the state its facts describe: a backup still being written must not pass with facts from two states of it.
import { stat } from 'node:fs/promises';

/**
 * Why `file` is no longer what was located (`facts`: its size and mtime then), judged from what a read
 * found (`readBytes`, when known) and from a stat taken now; undefined when it is unchanged.
 */
export async function describeFileChange(file: string, facts: { bytes?: number; mtimeMs?: number }, readBytes?: number): Promise<string | undefined> {
  if (facts.bytes === undefined || facts.mtimeMs === undefined) return undefined;
  const { bytes, mtimeMs } = facts;
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => error);
  const now = info instanceof Error ? `it is gone now (${info.code ?? info.message})` : undefined;
  const seen: string[] = [];
  if (readBytes !== undefined && readBytes !== bytes) seen.push(`${readBytes} bytes were read`);
  if (!(info instanceof Error)) {
    if (info.size !== bytes) seen.push(`it holds ${info.size} bytes now`);
    if (info.mtimeMs !== mtimeMs) seen.push(`its mtime is ${new Date(info.mtimeMs).toISOString()} now`);
  }
  if (now) seen.push(now);
  if (seen.length === 0) return undefined;
  return `${file} changed while it was verified: it was located with ${bytes} bytes (mtime ${new Date(mtimeMs).toISOString()}), ${seen.join(', ')}; is a writer still writing it? Verify it once it is complete`;
}

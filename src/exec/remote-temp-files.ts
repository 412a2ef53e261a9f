// Temp files of uploads on an SSH host (`.<name>.tmp.<id>`): list the orphans (for audit) and remove one.
import type { Exec } from './types.js';

/** An upload temp file found in a remote folder. */
export interface RemoteTempFile {
  path: string;
  bytes?: number;
  mtimeMs?: number;
}

/** Pattern of upload temp files inside their folder. */
export const UPLOAD_TEMP_GLOB = '.*.tmp.*';

const LIST_SCRIPT = [
  'd=$1',
  'if [ ! -d "$d" ]; then echo "rearguard: $d is not a directory" >&2; exit 3; fi',
  `for f in "$d"/${UPLOAD_TEMP_GLOB}; do`,
  '  [ -f "$f" ] || continue',
  `  m=$(stat -c '%s %Y' -- "$f" 2>/dev/null || stat -f '%z %m' -- "$f" 2>/dev/null)`,
  `  printf '%s|%s\\0' "$m" "$f"`,
  'done',
].join('\n');

/** Parses LIST_SCRIPT's NUL-separated "size mtime|path" records. */
export function parseTempFileList(text: string): RemoteTempFile[] {
  const files: RemoteTempFile[] = [];
  for (const record of text.split('\0')) {
    const bar = record.indexOf('|');
    if (bar < 0) continue;
    const [bytes, mtime] = record.slice(0, bar).trim().split(/\s+/);
    const path = record.slice(bar + 1).replace(/^\n/, '');
    if (!path) continue;
    files.push({
      path,
      ...(bytes && /^\d+$/.test(bytes) && { bytes: Number(bytes) }),
      ...(mtime && /^\d+$/.test(mtime) && { mtimeMs: Number(mtime) * 1000 }),
    });
  }
  return files;
}

/**
 * Lists upload temp files left in `dir` on `host` (an upload that was killed before it could clean
 * up, or whose cleanup could not reach the host). Read-only. Throws with the reason when the host
 * cannot be asked.
 */
export async function listRemoteTempFiles(
  exec: Pick<Exec, 'runRemote'>,
  host: string,
  dir: string,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RemoteTempFile[]> {
  const result = await exec.runRemote(host, {
    argv: ['sh', '-c', LIST_SCRIPT, 'rearguard-list', dir],
    timeoutMs: options.timeoutMs ?? 60_000,
    killGraceMs: 2_000,
    ...(options.signal && { signal: options.signal }),
  });
  if (result.startError) throw new Error(result.startError);
  if (result.timedOut) throw new Error(`listing ${host}:${dir} timed out`);
  if (result.exitCode !== 0) throw new Error(`listing ${host}:${dir} failed (exit ${result.exitCode}): ${result.output.trim().slice(-200)}`);
  return parseTempFileList(result.output);
}

/**
 * Removes one file on `host` (an upload's temp file). It is not tied to the run's abort signal:
 * cleanup must also happen while the run is being aborted.
 */
export async function removeRemoteFile(exec: Pick<Exec, 'runRemote'>, host: string, file: string, timeoutMs = 30_000): Promise<boolean> {
  const result = await exec.runRemote(host, { argv: ['rm', '-f', '--', file], timeoutMs, killGraceMs: 2_000 });
  return result.exitCode === 0 && !result.startError;
}

// Facts about a file on an SSH host (exists, size, sha256 computed there), asked through Exec.runRemote.
import type { Exec } from './types.js';

/** What the remote side reported about one file. */
export type RemoteFileFacts =
  | { state: 'missing' }
  | { state: 'notfile' }
  | { state: 'file'; bytes: number; sha256?: string; tool?: string };

/** An answer, or why there is none (connection, timeout, empty or garbled output). */
export type RemoteFileAnswer = { ok: true; facts: RemoteFileFacts } | { ok: false; message: string };

/**
 * Prints state=, size=, then (unless the size differs from the expected one, or only the size is
 * wanted) the output of the first sha256 tool found: sha256sum, shasum -a 256, openssl dgst -sha256.
 * The file is read through stdin, so its name never appears in the tool's output.
 */
const INSPECT_SCRIPT = [
  'f=$1; want=$2',
  'if [ ! -e "$f" ]; then echo state=missing; exit 0; fi',
  'if [ ! -f "$f" ]; then echo state=notfile; exit 0; fi',
  'echo state=file',
  's=$(stat -c %s -- "$f" 2>/dev/null || stat -f %z -- "$f" 2>/dev/null || wc -c < "$f"); s=$(echo $s)',
  'echo "size=$s"',
  'if [ "$want" = size ] || { [ -n "$want" ] && [ "$want" != "$s" ]; }; then exit 0; fi',
  'if command -v sha256sum >/dev/null 2>&1; then t=sha256sum; h=$(sha256sum < "$f"); r=$?',
  'elif command -v shasum >/dev/null 2>&1; then t="shasum -a 256"; h=$(shasum -a 256 < "$f"); r=$?',
  'elif command -v openssl >/dev/null 2>&1; then t="openssl dgst -sha256"; h=$(openssl dgst -sha256 < "$f"); r=$?',
  'else echo tool=none; exit 0; fi',
  'echo "tool=$t"; echo "rc=$r"; printf "hash=%s\\n" "$h"',
].join('\n');

/** Parses INSPECT_SCRIPT's report; an empty or garbled hash is an error, never a pass. */
export function parseInspectReport(text: string, file: string): RemoteFileAnswer {
  const lines = text.replace(/\r/g, '').split('\n');
  const value = (key: string): string | undefined => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
  const state = value('state');
  if (state === 'missing' || state === 'notfile') return { ok: true, facts: { state } };
  if (state !== 'file') return { ok: false, message: `unexpected answer about ${file}: ${JSON.stringify(text.slice(0, 200))}` };
  const sizeText = value('size') ?? '';
  if (!/^\d+$/.test(sizeText)) return { ok: false, message: `could not read the size of ${file}: got ${JSON.stringify(sizeText)}` };
  const bytes = Number(sizeText);
  const tool = value('tool');
  if (tool === undefined) return { ok: true, facts: { state: 'file', bytes } };
  if (tool === 'none') {
    return { ok: false, message: `no sha256 tool on the host: expected sha256sum, shasum or openssl on its PATH` };
  }
  const rc = value('rc');
  const hashIndex = lines.findIndex((l) => l.startsWith('hash='));
  const hashLines = hashIndex < 0 ? [] : [lines[hashIndex]!.slice(5), ...lines.slice(hashIndex + 1)].filter((l) => l.trim() !== '');
  if (hashLines.length === 0) {
    return { ok: false, message: `the remote ${tool} printed nothing for ${file} (exit ${rc}); an empty checksum is not a pass` };
  }
  const line = hashLines.length === 1 ? hashLines[0]!.trim() : '';
  const hash = /^([0-9a-f]{64})(?:\s+\*?-)?$/i.exec(line)?.[1] ?? /^(?:SHA2?-?256)?\((?:stdin|-)\)\s*=\s*([0-9a-f]{64})$/i.exec(line)?.[1] ?? /^([0-9a-f]{64})$/i.exec(line)?.[1];
  if (!hash || rc !== '0') {
    return {
      ok: false,
      message: `the remote ${tool} gave a garbled answer for ${file} (exit ${rc}): ${JSON.stringify(hashLines.join('\n').slice(0, 160))}; expected 64 hex digits`,
    };
  }
  return { ok: true, facts: { state: 'file', bytes, sha256: hash.toLowerCase(), tool } };
}

/** Options of inspectRemoteFile. */
export interface InspectOptions {
  /** 'size' only; 'hash' always; a number: hash only when the remote size equals it. */
  want: 'size' | 'hash' | number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Asks `host` about `file`: exists, size and (optionally) its sha256 computed on the host. */
export async function inspectRemoteFile(exec: Pick<Exec, 'runRemote'>, host: string, file: string, options: InspectOptions): Promise<RemoteFileAnswer> {
  const want = options.want === 'hash' ? '' : String(options.want);
  const result = await exec.runRemote(host, {
    argv: ['sh', '-c', INSPECT_SCRIPT, 'rearguard-inspect', file, want],
    timeoutMs: options.timeoutMs,
    killGraceMs: 2_000,
    ...(options.signal && { signal: options.signal }),
  });
  if (result.startError) return { ok: false, message: result.startError };
  if (result.aborted) return { ok: false, message: `inspecting ${host}:${file} was stopped: the run was aborted` };
  if (result.timedOut) return { ok: false, message: `inspecting ${host}:${file} timed out after ${Math.round(options.timeoutMs / 1000)}s` };
  if (result.connectionLost) return { ok: false, message: `inspecting ${host}:${file} failed: ${result.connectionLost}` };
  if (result.exitCode !== 0) {
    const tail = result.output.trim().split('\n').slice(-3).join(' | ');
    return { ok: false, message: `inspecting ${host}:${file} failed with exit ${result.exitCode}: ${tail || 'no output'}` };
  }
  return parseInspectReport(result.output, `${host}:${file}`);
}

/** Joins a remote folder and a file name with "/". */
export function joinRemotePath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir.replace(/\/+$/, '')}/${name}`;
}

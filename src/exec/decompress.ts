// Decompresses a byte stream: gzip in-process (node:zlib), zstd/xz/bzip2 through the system's own program.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** The compressions a backup archive may use. */
export type StreamCompression = 'gzip' | 'zstd' | 'xz' | 'bzip2';

/** How a decompression ended: `error` is set when the stream was damaged, the tool missing or failing. */
export interface DecompressionOutcome {
  error?: string;
}

/** A running decompression: write compressed bytes to `input`, read plain bytes from `output`. */
export interface Decompression {
  input: Writable;
  output: Readable;
  /** Settles (never rejects) once the decompressor has ended and its status is known. */
  outcome: Promise<DecompressionOutcome>;
  /** Stops at once (the child is killed) and waits until it has really ended. */
  stop(): Promise<void>;
}

const TOOLS: Record<Exclude<StreamCompression, 'gzip'>, { program: string; args: string[]; install: string }> = {
  zstd: { program: 'zstd', args: ['-d', '-c', '-q'], install: 'apt-get install zstd' },
  xz: { program: 'xz', args: ['-d', '-c', '-q'], install: 'apt-get install xz-utils' },
  bzip2: { program: 'bzip2', args: ['-d', '-c', '-q'], install: 'apt-get install bzip2' },
};

const STDERR_KEPT = 4096;
/** Larger than zlib's 16 KiB default: fewer chunks, fewer await turns per MiB in the reader. */
const GUNZIP_CHUNK = 128 * 1024;

/** Starts decompressing `compression`; failures (never throws) arrive in `outcome`. */
export function startDecompression(compression: StreamCompression, signal?: AbortSignal): Decompression {
  return compression === 'gzip' ? startGunzip(signal) : startTool(compression, signal);
}

function startGunzip(signal?: AbortSignal): Decompression {
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  let error: string | undefined;
  // Listeners only record: nothing thrown here could reach a caller.
  const outcome = new Promise<DecompressionOutcome>((resolve) => {
    gunzip.on('error', (cause: NodeJS.ErrnoException) => {
      error ??= describeGzipError(cause);
      resolve({ error });
    });
    gunzip.on('close', () => resolve(error === undefined ? {} : { error }));
  });
  const onAbort = (): void => {
    error ??= 'stopped: the run was aborted';
    gunzip.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  void outcome.then(() => signal?.removeEventListener('abort', onAbort));
  return {
    input: gunzip,
    output: gunzip,
    outcome,
    stop: async () => {
      gunzip.destroy();
      await outcome;
    },
  };
}

function describeGzipError(cause: NodeJS.ErrnoException): string {
  if (cause.code === 'Z_BUF_ERROR') return `the gzip stream is truncated (${cause.message})`;
  if (cause.code === 'Z_DATA_ERROR') return `the gzip data is corrupted (${cause.message})`;
  return `gzip: ${cause.message}`;
}

function startTool(compression: Exclude<StreamCompression, 'gzip'>, signal?: AbortSignal): Decompression {
  const tool = TOOLS[compression];
  // A missing program is reported through 'error', then 'close': spawn itself does not throw for it.
  const child: ChildProcess = spawn(tool.program, tool.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let startError: string | undefined;
  let stderr = '';
  let stopped = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
  });
  // A decompressor that exits early closes its stdin: the writer sees EPIPE, which is not ours to report.
  child.stdin?.on('error', () => undefined);
  child.stdout?.on('error', () => undefined);
  const outcome = new Promise<DecompressionOutcome>((resolve) => {
    child.on('error', (cause: NodeJS.ErrnoException) => {
      startError ??=
        cause.code === 'ENOENT'
          ? `${compression} archive, but the ${tool.program} program is not installed: ${tool.install}`
          : `could not run ${tool.program}: ${cause.message}`;
    });
    child.on('close', (code, killedBy) => {
      if (startError !== undefined) return resolve({ error: startError });
      if (signal?.aborted) return resolve({ error: 'stopped: the run was aborted' });
      if (stopped) return resolve({});
      if (code === 0) return resolve({});
      const said = stderr.trim().split('\n').filter(Boolean).pop();
      const status = killedBy ? `was killed by ${killedBy}` : `exited with status ${code}`;
      resolve({ error: `the ${compression} stream is truncated or corrupted: ${tool.program} ${status}${said ? ` (${said})` : ''}` });
    });
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  void outcome.then(() => signal?.removeEventListener('abort', kill));
  return {
    input: child.stdin!,
    output: child.stdout!,
    outcome,
    stop: async () => {
      stopped = true;
      kill();
      child.stdout?.destroy();
      await outcome;
    },
  };
}

// Runs a local process in its own process group, output to a file, with timeout, kill grace and abort.
import { closeSync, openSync, readSync, fstatSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { groupAlive, signalGroup, terminateGroup } from './process-group.js';
import type { ProcessResult, ProcessSpec } from './types.js';

const DEFAULT_CAPTURE = 64 * 1024;

/**
 * Runs `spec` locally. stdout/stderr go straight to a file descriptor (never a pipe), so a
 * grandchild that keeps them open cannot hang the run; after the process exits, anything left
 * in its process group is terminated.
 */
export async function runLocal(spec: ProcessSpec): Promise<ProcessResult> {
  const started = Date.now();
  const [file, ...args] = spec.argv;
  if (!file) throw new Error('runLocal: empty argv');
  let captureDir: string | undefined;
  let outputPath = spec.logFile;
  if (!outputPath) {
    captureDir = mkdtempSync(path.join(os.tmpdir(), 'rearguard-out-'));
    outputPath = path.join(captureDir, 'output');
  }
  const fd = openSync(outputPath, 'a+', 0o600);
  let timedOut = false;
  let aborted = spec.signal?.aborted ?? false;
  let pgid: number | undefined;
  let killing: Promise<void> | undefined;
  const killAll = (): void => {
    if (pgid !== undefined && !killing) killing = terminateGroup(pgid, spec.killGraceMs);
  };
  const onAbort = (): void => {
    aborted = true;
    killAll();
  };

  try {
    if (aborted) return finish({ exitCode: null, timedOut, aborted, startError: 'not started: the run was aborted' });
    // execa's types list only descriptors 1-9, but any open descriptor is handed to spawn
    // unchanged at runtime. A file descriptor instead of a pipe is the point: a grandchild
    // holding stdout open cannot keep the run waiting for end-of-stream.
    const sink = fd as unknown as 'inherit';
    const options: Options = {
      cwd: spec.cwd,
      env: spec.env ?? {},
      extendEnv: false,
      detached: true,
      stdout: sink,
      stderr: sink,
      reject: false,
      ...(spec.inputStream ? { stdin: spec.inputStream } : spec.input === undefined ? { stdin: 'ignore' } : { input: spec.input }),
    };
    const child = execa(file, args, options);
    pgid = child.pid;
    const timer = setTimeout(() => {
      timedOut = true;
      killAll();
    }, spec.timeoutMs);
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const result = await child;
    clearTimeout(timer);
    spec.signal?.removeEventListener('abort', onAbort);
    if (killing) await killing;
    let leftovers = false;
    if (pgid !== undefined && groupAlive(pgid)) {
      leftovers = true;
      await terminateGroup(pgid, Math.min(spec.killGraceMs, 5_000));
    }
    const startError =
      result.exitCode === undefined && result.signal === undefined
        ? `could not start ${file}: ${result.code === 'ENOENT' ? 'program not found' : (result.shortMessage ?? result.message)}`
        : undefined;
    return finish({
      exitCode: result.exitCode ?? null,
      ...(result.signal && { signal: result.signal }),
      timedOut,
      aborted,
      leftovers,
      ...(startError && { startError }),
    });
  } finally {
    closeSync(fd);
    if (pgid !== undefined && groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    if (captureDir) rmSync(captureDir, { recursive: true, force: true });
  }

  function finish(partial: Omit<ProcessResult, 'durationMs' | 'output' | 'leftovers'> & { leftovers?: boolean }): ProcessResult {
    const output = spec.logFile ? '' : readTail(fd, spec.maxCaptureBytes ?? DEFAULT_CAPTURE);
    return { leftovers: false, ...partial, durationMs: Date.now() - started, output };
  }
}

/** Reads the last `maxBytes` of an open file. */
function readTail(fd: number, maxBytes: number): string {
  const size = fstatSync(fd).size;
  const length = Math.min(size, maxBytes);
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, size - length);
  return buffer.toString('utf8');
}

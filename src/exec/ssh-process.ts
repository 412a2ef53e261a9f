// Runs one ssh client process: output to a file descriptor, stdin under our control, timeout and abort that reach the remote side.
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { armDeadline } from './process-deadline.js';
import { groupAlive, terminateGroup } from './process-group.js';

/** One ssh invocation. */
export interface SshProcessSpec {
  /** ssh arguments (see buildSshArgs), then the remote command line. */
  args: string[];
  env: Record<string, string>;
  /** Written to stdin first (the wrapper's env block). */
  stdinPrefix: string;
  /** Piped to stdin after the prefix, then stdin is closed; without it stdin stays open until the end. */
  inputStream?: Readable;
  /** Close stdin right after the prefix (the remote side reads a fixed input). */
  closeAfterPrefix?: boolean;
  /** stdout and stderr of ssh go here (a descriptor the run reads without waiting for its end: see createLocalRunner). */
  outputFd: number;
  /** stdout goes here instead (the remote command's data); stderr still goes to outputFd. */
  stdoutStream?: Writable;
  /** Called right after the spawn, e.g. to close the parent's copy of the output descriptor. */
  onSpawned?: () => void;
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /** Last resort when the session does not end after stdin closed: kill the remote command another way. */
  forceStop(): Promise<void>;
}

/** How the ssh client ended. */
export interface SshProcessResult {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  aborted: boolean;
  startError?: string;
}

/** Extra time the remote side gets, beyond its kill grace, to end the session by itself. */
const SESSION_MARGIN_MS = 3_000;

/**
 * Runs ssh. On timeout or abort, stdin is closed first: the remote wrapper sees the session end and
 * terminates the command's process group (SIGTERM, SIGKILL after the grace). If the session still
 * has not ended after that grace, `forceStop` kills the remote group through a second session, and
 * the local ssh is terminated.
 */
export async function runSshProcess(spec: SshProcessSpec): Promise<SshProcessResult> {
  let timedOut = false;
  let aborted = spec.signal?.aborted ?? false;
  if (aborted) return { exitCode: null, timedOut, aborted, startError: 'not started: the run was aborted' };
  const sink = spec.outputFd as unknown as 'inherit';
  const child = execa('ssh', spec.args, {
    env: spec.env,
    extendEnv: false,
    stdin: 'pipe',
    stdout: spec.stdoutStream ? 'pipe' : sink,
    stderr: sink,
    buffer: false,
    reject: false,
    detached: true,
  });
  spec.onSpawned?.();
  // The data flows as the reader takes it; a reader that stops closes stdout, and ssh ends the session.
  const streamed = spec.stdoutStream && child.stdout ? pipeline(child.stdout, spec.stdoutStream).catch(() => undefined) : undefined;
  const stdin = child.stdin;
  stdin.on('error', () => undefined);
  const done = child.then((r) => r);

  const closeStdin = (): void => {
    if (spec.inputStream) {
      spec.inputStream.unpipe(stdin);
      spec.inputStream.destroy();
    }
    if (!stdin.destroyed) stdin.end();
  };
  stdin.write(spec.stdinPrefix);
  if (spec.closeAfterPrefix && !spec.inputStream) stdin.end();
  if (spec.inputStream) {
    // A read error ends the data early; the remote side sees a short stream and discards it.
    spec.inputStream.on('error', closeStdin);
    spec.inputStream.pipe(stdin);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    stopping ??= (async () => {
      closeStdin();
      if (await exitsWithin(done, spec.killGraceMs + SESSION_MARGIN_MS)) return;
      await spec.forceStop().catch(() => undefined);
      if (await exitsWithin(done, 2_000)) return;
      if (child.pid !== undefined && groupAlive(child.pid)) await terminateGroup(child.pid, 1_000);
    })();
  };
  const disarm = armDeadline(spec.timeoutMs, spec.signal, (why) => {
    if (why === 'timeout') timedOut = true;
    else aborted = true;
    stop();
  });
  const result = await done;
  disarm();
  if (stopping) await stopping;
  await streamed;
  if (!stdin.destroyed) stdin.destroy();
  // ssh may end before the data did (remote error): release the source too.
  if (spec.inputStream && !spec.inputStream.readableEnded) spec.inputStream.destroy();
  if (child.pid !== undefined && groupAlive(child.pid)) await terminateGroup(child.pid, 1_000);
  const startError =
    result.exitCode === undefined && result.signal === undefined
      ? `could not start ssh: ${result.code === 'ENOENT' ? 'program not found (install the OpenSSH client)' : (result.shortMessage ?? result.message)}`
      : undefined;
  return {
    exitCode: result.exitCode ?? null,
    ...(result.signal && { signal: result.signal }),
    timedOut,
    aborted,
    ...(startError && { startError }),
  };
}

async function exitsWithin(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const finished = await Promise.race([done.then(() => true as const), timeout]);
  clearTimeout(timer);
  return finished;
}

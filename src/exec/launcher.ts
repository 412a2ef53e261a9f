// A run's process launcher: one small node process that starts the run's local programs for it (see launcher-source.ts for why and how).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LAUNCHER_SOURCE } from './launcher-source.js';
import type { ChildExit } from './spawn-child.js';

/** One program to start. */
export interface LaunchRequest {
  file: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** A FIFO rearguard holds open for reading: the child's stdout and stderr. */
  out: string;
  /** The cgroup the child is born in (the launcher makes it, and removes it when it is empty at the child's exit), and the launcher's own cgroup to step back into. */
  placement?: { cgroup: string; home: string };
}

/** How a start went. */
export type LaunchStart =
  /** The child runs; `cgroupKept` is false when it is not in the requested cgroup (the box then forgets it). */
  | { kind: 'started'; pid: number; cgroupKept: boolean; exited: Promise<ChildExit> }
  /** Nothing runs: the spawn failed, or the launcher stopped before it answered (then `cgroupKept`: it is safe to look). */
  | { kind: 'failed'; error: NodeJS.ErrnoException; cgroupKept: boolean }
  /** The launcher is not there (it never came up, or it stopped before), so nothing was started: start the program in rearguard itself. */
  | { kind: 'unavailable' };

/** The launcher of one run. */
export interface Launcher {
  /** Starts a program; never rejects. An answer slower than `answerMs` means the launcher hangs: it is killed. */
  start(request: LaunchRequest, answerMs: number): Promise<LaunchStart>;
  /** How many starts are sent and not yet answered: the programs queued in this launcher. */
  waiting(): number;
  /** Ends the launcher (it exits at the end of its requests) and waits for its exit, at most `waitMs`. */
  close(waitMs: number): Promise<void>;
}

interface Job {
  started?: (start: LaunchStart) => void;
  exited?: (exit: ChildExit) => void;
}

type Answer =
  | { ready: number }
  | { id: number; pid: number; cgroup: 'kept' | 'lost' }
  | { id: number; cgroup: 'kept' | 'lost'; error: { code: string; message: string } }
  | { id: number; exit: number | null; signal: NodeJS.Signals | null; removed?: true };

/** How much of the launcher's stderr is kept to explain its end. */
const STDERR_KEPT = 2048;

// A launcher started ahead of its run (prestartLauncher), waiting to be taken by it.
let ahead: Launcher | undefined;

/**
 * Starts the launcher ahead of the run that will use it: Node's start in that process (tens of milliseconds)
 * then overlaps rearguard's own start (reading the config, planning) instead of delaying the first program.
 * One that is never taken costs nothing more: it exits with rearguard, at the end of its requests.
 */
export function prestartLauncher(): void {
  ahead ??= startLauncher();
}

/** The launcher started ahead, when there is one (each is taken once), else a new one. */
export function takeLauncher(node?: string): Launcher | undefined {
  if (node === undefined && ahead) {
    const taken = ahead;
    ahead = undefined;
    return taken;
  }
  return startLauncher(node);
}

/**
 * Starts the launcher: `node -` reading its code from stdin, its requests on fd 3. Returns undefined when it
 * cannot even be spawned.
 */
export function startLauncher(node = process.execPath): Launcher | undefined {
  let proc: ChildProcess;
  try {
    // Its own process group, as every program of a run: a Ctrl-C at the terminal reaches rearguard, which decides.
    // No environment: the launcher needs none, and NODE_OPTIONS meant for rearguard must not load into it.
    proc = spawn(node, ['-', 'rearguard-launcher'], { env: {}, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  } catch {
    return undefined;
  }
  if (proc.pid === undefined) {
    proc.on('error', () => undefined);
    return undefined;
  }
  const requests = proc.stdio[3] as Writable;
  const answers = proc.stdout as Readable;
  const errors = proc.stderr as Readable;
  const jobs = new Map<number, Job>();
  let seq = 0;
  let waiting = 0;
  let ready = false;
  let gone: string | undefined;
  let stderrTail = '';

  // The launcher keeps the event loop alive only while something it started runs.
  const handles = [answers, errors, requests] as unknown as { ref(): void; unref(): void }[];
  const hold = (on: boolean): void => {
    for (const handle of handles) {
      if (on) handle.ref();
      else handle.unref();
    }
    if (on) proc.ref();
    else proc.unref();
  };
  hold(false);
  const settleJob = (id: number): void => {
    const job = jobs.get(id);
    if (job && !job.started && !job.exited) {
      jobs.delete(id);
      if (jobs.size === 0) hold(false);
    }
  };

  proc.stdin!.on('error', () => undefined);
  proc.stdin!.end(LAUNCHER_SOURCE);
  requests.on('error', () => undefined);
  errors.setEncoding('utf8');
  errors.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_KEPT);
  });
  let pending = '';
  answers.setEncoding('utf8');
  answers.on('data', (text: string) => {
    pending += text;
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line) onAnswer(JSON.parse(line) as Answer);
    }
  });
  answers.on('error', () => undefined);

  function onAnswer(message: Answer): void {
    if ('ready' in message) {
      ready = true;
      return;
    }
    const job = jobs.get(message.id);
    if (!job) return;
    if ('pid' in message) {
      const exited = new Promise<ChildExit>((resolve) => (job.exited = resolve));
      job.started?.({ kind: 'started', pid: message.pid, cgroupKept: message.cgroup === 'kept', exited });
      job.started = undefined;
    } else if ('error' in message) {
      const error = Object.assign(new Error(message.error.message), { code: message.error.code }) as NodeJS.ErrnoException;
      job.started?.({ kind: 'failed', error, cgroupKept: message.cgroup === 'kept' });
      job.started = undefined;
    } else {
      job.exited?.({ exitCode: message.exit, ...(message.signal && { signal: message.signal }), ...(message.removed && { cgroupRemoved: true }) });
      job.exited = undefined;
    }
    settleJob(message.id);
  }

  const onGone = (why: string): void => {
    if (gone !== undefined) return;
    const tail = stderrTail.trim().split('\n').slice(-3).join(' / ');
    gone = `the process launcher of this run stopped (${why})${tail ? `: ${tail}` : ''}`;
    for (const [id, job] of jobs) {
      // Before its first word nothing was started: those programs can start in rearguard itself.
      if (job.started) job.started(ready ? { kind: 'failed', error: Object.assign(new Error(gone), { code: 'ELAUNCHER' }), cgroupKept: true } : { kind: 'unavailable' });
      job.exited?.({ exitCode: null, lost: `${gone} while the program ran: its exit status is unknown` });
      jobs.delete(id);
    }
    hold(false);
  };
  proc.on('error', (error) => onGone(error.message));
  // 'close', not 'exit': every answer it wrote has been read by then, so one it gave is never taken for one it did not.
  proc.on('close', (code, signal) => onGone(signal ? `killed by ${signal}` : `exit code ${code}`));

  return {
    start(request, answerMs) {
      // Gone: nothing more is sent to it, and rearguard starts what comes next itself.
      if (gone !== undefined) return Promise.resolve({ kind: 'unavailable' });
      seq += 1;
      const id = seq;
      return new Promise<LaunchStart>((resolve) => {
        const timer = setTimeout(() => {
          // The launcher only makes system calls that return at once; no answer means it hangs. Killing it
          // settles every job (and, through their parent-death signal, stops what it started).
          proc.kill('SIGKILL');
        }, answerMs);
        timer.unref();
        if (jobs.size === 0) hold(true);
        waiting += 1;
        jobs.set(id, {
          started: (start) => {
            waiting -= 1;
            clearTimeout(timer);
            resolve(start);
          },
        });
        const { placement, ...rest } = request;
        requests.write(`${JSON.stringify({ id, ...rest, ...(placement && { cgroup: placement.cgroup, home: placement.home }) })}\n`);
      });
    },
    waiting: () => waiting,
    async close(waitMs) {
      requests.end();
      if (proc.exitCode === null && proc.signalCode === null) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((resolve) => proc.once('exit', resolve)), new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
        clearTimeout(timer);
      }
      hold(false);
    },
  };
}

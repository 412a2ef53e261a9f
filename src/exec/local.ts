// Runs a local process contained (cgroup or process group, parent-death signal), output through a capped pipe, with timeout, kill grace and abort.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openLiveJournal } from '../state/live-journal.js';
import { processStartTime } from '../state/live-processes.js';
import { createContainment, type Containment } from './containment.js';
import { startLauncher, takeLauncher } from './launcher.js';
import { createLauncherPool, defaultLauncherCount, type LauncherPool } from './launcher-pool.js';
import { openOutputSink } from './output-sink.js';
import { armDeadline } from './process-deadline.js';
import { spawnChild, type StartedChild } from './spawn-child.js';
import type { ProcessResult, ProcessSpec } from './types.js';

const DEFAULT_CAPTURE = 64 * 1024;
/** How long output may still arrive after the program and its leftovers are gone. */
const DRAIN_MS = 1_000;
/** How long the end of a run waits for its launcher to exit (it exits as soon as it reads the end of its requests). */
const LAUNCHER_EXIT_MS = 2_000;

/** What every local process of a run shares. */
export interface LocalRunnerOptions {
  containment: Containment;
  /** The run folder: each live process is recorded in `<runDir>/live.jsonl` while it runs (live-journal.ts). */
  runDir?: string;
  /**
   * false: every process is started by rearguard itself. Default true: programs whose stdin and stdout need no
   * stream of rearguard's are started by the run's launcher process (launcher-source.ts says why).
   */
  launcher?: boolean;
  /** The node that runs the launcher (default: the one running rearguard). */
  launcherNode?: string;
  /** How many launchers a run may start (default: two, one on a single core; see launcher-pool.ts). */
  launchers?: number;
}

/** Starts local processes for one run; `close()` ends the run's launchers. */
export type LocalRunner = ((spec: ProcessSpec) => Promise<ProcessResult>) & { close(): Promise<void> };

/**
 * Makes the runner of a run. Each process gets its own box (a cgroup where the kernel allows,
 * always its own process group) and a parent-death signal; its output reaches the log through a
 * pipe that rearguard reads, so the log can be capped, and the run never waits for the end of
 * that pipe once the program has exited: a process that escaped still holding it cannot hang the
 * run. After the program exits, anything left in its box is terminated.
 */
export function createLocalRunner(options: LocalRunnerOptions): LocalRunner {
  let seq = 0;
  // The first launcher comes with the first program that can use it (the one started ahead, when there is one).
  const launchers: LauncherPool | undefined =
    options.launcher === false
      ? undefined
      : createLauncherPool(() => takeLauncher(options.launcherNode), () => startLauncher(options.launcherNode), options.launchers ?? defaultLauncherCount());
  const launcherFor = (spec: ProcessSpec) => {
    if (spec.stdoutStream || spec.inputStream || spec.input !== undefined) return undefined;
    return launchers?.pick();
  };
  // A run looks each program up once, not once a process. A program gone since is the spawn's ENOENT.
  const found = programFinder();
  const live = options.runDir === undefined ? undefined : openLiveJournal(options.runDir);
  const run = async (spec: ProcessSpec): Promise<ProcessResult> => {
    const started = Date.now();
    const [file, ...args] = spec.argv;
    if (!file) throw new Error('runLocal: empty argv');
    const base = { timedOut: false, aborted: spec.signal?.aborted ?? false, leftovers: false, durationMs: 0, output: '' };
    if (base.aborted) return { ...base, exitCode: null, startError: 'not started: the run was aborted' };
    // Resolved here, as execvp would, so a missing program is reported as such and not as the
    // parent-death wrapper's failure to exec it.
    const program = found(file, spec.env?.PATH ?? '/usr/local/bin:/usr/bin:/bin', spec.cwd);
    if (!program) return { ...base, exitCode: null, startError: `could not start ${file}: program not found` };

    const sink = await openOutputSink({ ...(spec.logFile && { logFile: spec.logFile }), ...(spec.logMax !== undefined && { logMax: spec.logMax }), captureMax: spec.maxCaptureBytes ?? DEFAULT_CAPTURE });
    seq += 1;
    const id = `${process.pid}-${seq}`;
    const label = spec.label ?? path.basename(file);
    const box = options.containment.open(label);
    let timedOut = false;
    let aborted = false;
    let killing: Promise<void> | undefined;
    const killAll = (): void => {
      killing ??= box.terminate(spec.killGraceMs);
    };
    let recorded = false;
    // Set once the box is seen empty after the program's exit: nothing can enter an empty box, so it is not asked again.
    let empty = false;
    try {
      const [command, ...commandArgs] = options.containment.wrap([program, ...args]);
      const record = { id, label, program: file, pid: 0, pgid: 0, kill_grace_ms: spec.killGraceMs, started_at: new Date(started).toISOString() };
      // With a cgroup, the record can exist before the program does: a kill at any moment after
      // the spawn leaves a record that finds everything the program started.
      if (live && box.cgroup) {
        live.record({ ...record, cgroup: box.cgroup });
        recorded = true;
      }
      let child: StartedChild | undefined;
      const viaLauncher = launcherFor(spec);
      if (viaLauncher) {
        const placement = box.placement();
        // No setpriv here: the launcher stops the program when rearguard dies (at the end of its requests).
        const start = await viaLauncher.start({ file: program, args, ...(spec.cwd !== undefined && { cwd: spec.cwd }), env: spec.env ?? {}, out: sink.path, ...(placement && { placement }) }, spec.timeoutMs);
        if (start.kind === 'started') {
          box.adopt(start.pid, start.cgroupKept);
          child = { pid: start.pid, stdout: null, exited: start.exited };
        } else if (start.kind === 'failed') {
          // A launcher that died before it answered may have started the program: the box is looked at below.
          box.adopt(undefined, start.cgroupKept);
          child = { pid: undefined, stdout: null, exited: Promise.resolve({ exitCode: null, startError: start.error }) };
        } else {
          launchers?.drop(viaLauncher);
        }
      }
      child ??= box.spawn(() =>
        spawnChild(command!, commandArgs, {
          cwd: spec.cwd,
          env: spec.env ?? {},
          stdout: spec.stdoutStream ? 'pipe' : sink.fd,
          stderr: sink.fd,
          ...(spec.inputStream ? { inputStream: spec.inputStream } : spec.input !== undefined && { input: spec.input }),
        }),
      );
      // The data flows as the reader takes it; a reader that stops closes stdout, and the program gets EPIPE.
      const streamed = spec.stdoutStream && child.stdout ? pipeline(child.stdout, spec.stdoutStream).catch(() => undefined) : undefined;
      // With its cgroup kept, the record written before the spawn already finds everything the program starts.
      if (child.pid !== undefined && live && !(recorded && box.cgroup)) {
        const pidStart = processStartTime(child.pid);
        live.record({
          ...record,
          pid: child.pid,
          pgid: child.pid,
          ...(pidStart !== undefined && { pid_start: pidStart }),
          ...(box.cgroup && { cgroup: box.cgroup }),
        });
        recorded = true;
      }
      sink.closeWriteEnd();
      const disarm = armDeadline(spec.timeoutMs, spec.signal, (why) => {
        if (why === 'timeout') timedOut = true;
        else aborted = true;
        killAll();
      });
      const result = await child.exited;
      disarm();
      if (result.cgroupRemoved) box.removedEmpty();
      if (killing) await killing;
      let leftovers = false;
      if (box.alive()) {
        leftovers = true;
        await box.terminate(Math.min(spec.killGraceMs, 5_000));
      } else {
        empty = true;
      }
      // Everything that could write to the stream is gone: what it holds is the program's whole stdout.
      await streamed;
      const summary = await sink.finish(DRAIN_MS);
      const startError = result.startError ? `could not start ${file}: ${whyNotStarted(result.startError, spec.cwd)}` : undefined;
      return {
        exitCode: result.exitCode,
        ...(result.signal && { signal: result.signal }),
        timedOut,
        aborted,
        leftovers,
        ...(startError && { startError }),
        ...(result.lost && { connectionLost: result.lost }),
        durationMs: Date.now() - started,
        output: spec.logFile ? '' : summary.captured,
        ...(summary.truncated && { logTruncated: { bytes: summary.bytes, droppedBytes: summary.droppedBytes } }),
      };
    } finally {
      if (!empty && box.alive()) box.kill();
      sink.closeWriteEnd();
      box.release();
      if (recorded && (empty || !box.alive())) live?.forget(id);
    }
  };
  return Object.assign(run, {
    async close() {
      await launchers?.close(LAUNCHER_EXIT_MS);
      // Removed when every program it recorded is gone; kept for the next run when something could not be stopped.
      live?.close();
    },
  });
}

/** Why the spawn failed, in words: spawn's ENOENT stands for a missing program and a missing working folder alike. */
function whyNotStarted(error: NodeJS.ErrnoException, cwd: string | undefined): string {
  if (error.code !== 'ENOENT') return error.message;
  return cwd !== undefined && !existsSync(cwd) ? `its working folder ${cwd} does not exist` : 'program not found';
}

let defaultRunner: LocalRunner | undefined;

/** Runs `spec` with containment of its own (no run folder); for callers outside a run. */
export function runLocal(spec: ProcessSpec): Promise<ProcessResult> {
  defaultRunner ??= createLocalRunner({ containment: createContainment() });
  return defaultRunner(spec);
}

/**
 * resolveProgram that remembers where it found a program, by name, PATH and folder: units mostly share their
 * programs, and a lookup costs a stat per PATH folder. A program not found is looked for again next time.
 */
export function programFinder(): (file: string, searchPath: string, cwd?: string) => string | undefined {
  const programs = new Map<string, string>();
  return (file, searchPath, cwd) => {
    const key = `${file}\0${searchPath}\0${cwd ?? ''}`;
    let program = programs.get(key);
    if (program === undefined) {
      program = resolveProgram(file, searchPath, cwd);
      if (program !== undefined) programs.set(key, program);
    }
    return program;
  };
}

/** The path execvp would run for `file`, or undefined when there is none. */
export function resolveProgram(file: string, searchPath: string, cwd = process.cwd()): string | undefined {
  if (file.includes('/')) {
    const full = path.resolve(cwd, file);
    return isExecutable(full) ? full : undefined;
  }
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(path.resolve(cwd, dir || '.'), file);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  // Most folders of a PATH do not hold the program: a miss is answered without an exception (a thrown
  // error costs more than the lookup itself, once per folder for every process a run starts).
  try {
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

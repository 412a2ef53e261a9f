// Runs a local process contained (cgroup or process group, parent-death signal), output through a capped pipe, with timeout, kill grace and abort.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { forgetLive, processStartTime, recordLive } from '../state/live-processes.js';
import { createContainment, type Containment } from './containment.js';
import { openOutputSink } from './output-sink.js';
import { armDeadline } from './process-deadline.js';
import { spawnChild } from './spawn-child.js';
import type { ProcessResult, ProcessSpec } from './types.js';

const DEFAULT_CAPTURE = 64 * 1024;
/** How long output may still arrive after the program and its leftovers are gone. */
const DRAIN_MS = 1_000;

/** What every local process of a run shares. */
export interface LocalRunnerOptions {
  containment: Containment;
  /** The run folder: each live process is recorded in `<runDir>/live/` while it runs. */
  runDir?: string;
}

/** Starts local processes for one run. */
export type LocalRunner = (spec: ProcessSpec) => Promise<ProcessResult>;

/**
 * Makes the runner of a run. Each process gets its own box (a cgroup where the kernel allows,
 * always its own process group) and a parent-death signal; its output reaches the log through a
 * pipe that rearguard reads, so the log can be capped, and the run never waits for the end of
 * that pipe once the program has exited: a process that escaped still holding it cannot hang the
 * run. After the program exits, anything left in its box is terminated.
 */
export function createLocalRunner(options: LocalRunnerOptions): LocalRunner {
  let seq = 0;
  return async (spec) => {
    const started = Date.now();
    const [file, ...args] = spec.argv;
    if (!file) throw new Error('runLocal: empty argv');
    const base = { timedOut: false, aborted: spec.signal?.aborted ?? false, leftovers: false, durationMs: 0, output: '' };
    if (base.aborted) return { ...base, exitCode: null, startError: 'not started: the run was aborted' };
    // Resolved here, as execvp would, so a missing program is reported as such and not as the
    // parent-death wrapper's failure to exec it.
    const program = resolveProgram(file, spec.env?.PATH ?? '/usr/local/bin:/usr/bin:/bin', spec.cwd);
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
      if (options.runDir && box.cgroup) {
        recordLive(options.runDir, { ...record, cgroup: box.cgroup });
        recorded = true;
      }
      const child = box.spawn(() =>
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
      if (child.pid !== undefined && options.runDir) {
        const pidStart = processStartTime(child.pid);
        recordLive(options.runDir, {
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
        durationMs: Date.now() - started,
        output: spec.logFile ? '' : summary.captured,
        ...(summary.truncated && { logTruncated: { bytes: summary.bytes, droppedBytes: summary.droppedBytes } }),
      };
    } finally {
      if (!empty && box.alive()) box.kill();
      sink.closeWriteEnd();
      box.release();
      if (recorded && options.runDir && (empty || !box.alive())) forgetLive(options.runDir, id);
    }
  };
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

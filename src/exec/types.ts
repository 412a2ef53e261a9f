// Process contracts: what callers ask of src/exec and what they get back. Failure is data, never a throw.
import type { Readable, Writable } from 'node:stream';

/** A process to run. Output goes to `logFile` (appended) or is captured (bounded). */
export interface ProcessSpec {
  argv: string[];
  cwd?: string;
  /** The complete environment of the process. */
  env?: Record<string, string>;
  /**
   * On an SSH host only what `env` adds to or changes in rearguard's own environment is exported; these
   * names are exported whenever `env` sets them (a tool's own variables, e.g. RESTIC_PASSWORD_FILE, that
   * rearguard's environment may happen to hold with the same value).
   */
  exportEnv?: readonly string[];
  timeoutMs: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /** Append stdout and stderr here; otherwise they are captured and returned. */
  logFile?: string;
  /** Cap of what this process adds to logFile (head and tail kept). Default 64 MiB (DEFAULT_LOG_MAX). */
  logMax?: number;
  /** What the process is for (the unit's name): names its cgroup and its live record. Default: the program's name. */
  label?: string;
  /** Bytes of captured output kept (the end is kept). Default 64 KiB. */
  maxCaptureBytes?: number;
  /** Text written to the process's stdin; stdin is empty otherwise. */
  input?: string;
  /** A stream piped to stdin (e.g. an upload read while it is hashed); stdin closes at its end. */
  inputStream?: Readable;
  /**
   * stdout goes here, byte for byte (e.g. a tar read while it arrives), and is ended with it; only stderr
   * is then captured or logged. When the stream stops taking data (destroyed), stdout is closed, so the
   * program sees a broken pipe and ends.
   */
  stdoutStream?: Writable;
}

/** What happened to a process. */
export interface ProcessResult {
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  aborted: boolean;
  durationMs: number;
  /** Captured output (stdout and stderr interleaved) when no logFile was given. */
  output: string;
  /** Set when the program could not be started at all (e.g. not found). */
  startError?: string;
  /**
   * Set when what reported the program's end was lost while it ran (the connection to a remote host, the run's
   * local launcher): its exit status is unknown.
   */
  connectionLost?: string;
  /** Background processes the unit left behind (in its process group or cgroup), terminated after it exited. */
  leftovers: boolean;
  /** Set when output went past logMax: the middle of the log was replaced by one line. */
  logTruncated?: { bytes: number; droppedBytes: number };
}

/** True when the process ran and exited 0 in time. */
export function succeeded(result: ProcessResult): boolean {
  return result.exitCode === 0 && !result.timedOut && !result.aborted && result.startError === undefined;
}

/** Describes a failed process in a few words: "exited with 3", "timed out after 5m". */
export function describeFailure(result: ProcessResult, timeoutText: string): string {
  if (result.startError) return result.startError;
  if (result.connectionLost) return result.connectionLost;
  if (result.aborted) return 'terminated: the run was aborted';
  if (result.timedOut) return `timed out after ${timeoutText}`;
  if (result.signal) return `killed by ${result.signal}`;
  return `exited with ${result.exitCode}`;
}

/** Starts processes: locally, and over SSH on a configured host. */
export interface Exec {
  run(spec: ProcessSpec): Promise<ProcessResult>;
  /** Runs argv on `host` over SSH; each argument is quoted for the remote shell. */
  runRemote(host: string, spec: ProcessSpec): Promise<ProcessResult>;
}

// Typed errors that the CLI maps to exit codes; every one keeps its cause.

/** Base class of rearguard's own errors: a message meant for the operator. */
export class RearguardError extends Error {
  override name = 'RearguardError';
}

/** One problem found in a config file, located in the document. */
export interface ConfigProblem {
  file: string;
  path: string;
  line?: number;
  message: string;
}

/** The config could not be loaded or is invalid; lists every problem found. */
export class ConfigError extends RearguardError {
  override name = 'ConfigError';
  constructor(
    readonly problems: ConfigProblem[],
    options?: ErrorOptions,
  ) {
    super(problems.map(formatConfigProblem).join('\n'), options);
  }
}

/** Renders a config problem as "file:line: path: message". */
export function formatConfigProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return problem.path ? `${where}: ${problem.path}: ${problem.message}` : `${where}: ${problem.message}`;
}

/** Command-line usage that cannot be honoured, e.g. --only naming an unknown unit. */
export class UsageError extends RearguardError {
  override name = 'UsageError';
}

/** Facts about the process that holds the run lock. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  started_at: string;
  run_id: string;
}

/** Another run holds the lock of this state directory. */
export class LockHeldError extends RearguardError {
  override name = 'LockHeldError';
  constructor(
    readonly holder: LockHolder | undefined,
    readonly lockPath: string,
    detail?: string,
  ) {
    super(
      holder
        ? `another run holds the lock ${lockPath}: pid ${holder.pid} on ${holder.host}, "${holder.command}", started ${holder.started_at} (run ${holder.run_id})`
        : `the lock ${lockPath} is held and its holder cannot be read${detail ? `: ${detail}` : ''}`,
    );
  }
}

// Builds and runs pgbackrest commands for a stanza, on this machine or on the artifact's host.
import type { Exec, ProcessResult } from '../../src/exec/types.js';
import type { BackupType } from './info.js';

/** Where a stanza is and which backup set an artifact means. */
export interface PgBackRestOptions {
  stanza: string;
  /** pgBackRest's config file (its default when unset). */
  config?: string;
  /** Which repository (repo1, repo2...) when the stanza has several. */
  repo?: number;
  /** The type the newest set must have. */
  type?: BackupType;
  /** A host from `hosts`: pgbackrest runs there over SSH. */
  host?: string;
}

/** What running a pgbackrest command needs. */
export interface PgBackRestRunContext {
  exec: Exec;
  signal: AbortSignal;
  env: Record<string, string>;
}

/** How long a listing may take before it counts as hung. */
export const LIST_TIMEOUT_MS = 5 * 60_000;
const KILL_GRACE_MS = 10_000;

/**
 * argv of `pgbackrest <command>` for the stanza. Console output is kept to warnings and errors so the
 * JSON line can be found, and stderr is off because captured output interleaves both streams.
 */
export function pgbackrestArgv(options: PgBackRestOptions, command: string, extra: string[] = [], consoleLevel = 'warn'): string[] {
  return [
    'pgbackrest',
    `--stanza=${options.stanza}`,
    ...(options.config !== undefined ? [`--config=${options.config}`] : []),
    ...(options.repo !== undefined ? [`--repo=${options.repo}`] : []),
    `--log-level-console=${consoleLevel}`,
    '--log-level-stderr=off',
    ...extra,
    command,
  ];
}

/**
 * Runs argv locally or on the options' host; the environment carries any cipher pass, never argv. Every
 * `PGBACKREST_*` variable (pgBackRest reads any option from one) goes to the host, also when rearguard's own
 * environment holds it: a remote command is otherwise sent only what the unit adds to that environment.
 */
export function runPgBackRest(
  ctx: PgBackRestRunContext,
  options: PgBackRestOptions,
  argv: string[],
  limits: { timeoutMs: number; logFile?: string },
): Promise<ProcessResult> {
  const spec = {
    argv,
    env: ctx.env,
    exportEnv: Object.keys(ctx.env).filter((name) => name.startsWith('PGBACKREST_')),
    timeoutMs: limits.timeoutMs,
    killGraceMs: KILL_GRACE_MS,
    signal: ctx.signal,
    label: 'pgbackrest',
    ...(limits.logFile !== undefined && { logFile: limits.logFile }),
  };
  return options.host !== undefined ? ctx.exec.runRemote(options.host, spec) : ctx.exec.run(spec);
}

/** Names the stanza for people: "stanza main on nas". */
export function describeStanza(options: PgBackRestOptions): string {
  return `pgbackrest stanza ${options.stanza}${options.repo !== undefined ? ` repo${options.repo}` : ''}${options.host !== undefined ? ` on ${options.host}` : ''}`;
}



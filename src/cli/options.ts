// Turns commander's parsed flags and the environment into RunOptions (the only place that reads them).
import { supportsColor, supportsColorStderr } from 'chalk';
import type { CommandName, RunOptions } from '../config/types.js';
import { UsageError } from '../errors.js';
import { STDOUT_PATH } from '../report/json.js';
import { parseDuration } from '../util/duration.js';

/** Flags shared by the run commands, as commander parses them. */
export interface CommonFlags {
  config?: string;
  only?: string[];
  skip?: string[];
  json?: string;
  junit?: string;
  color?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  waitLock?: string;
  dryRun?: boolean;
}

/** Facts about the terminal and environment. */
export interface Terminal {
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  argv: string[];
  /** Width of the terminal; undefined when stdout is not one (then process.stdout is asked). */
  columns?: number;
  /** Colour levels (0 none .. 3 truecolor) chalk's detection found for stdout and stderr; detected when absent. */
  colorLevels?: { stdout: number; stderr: number };
}

/** Below this width the live tree wraps into one character per line; plain lines stay readable. */
export const MIN_LIVE_COLUMNS = 40;

/** True when --json or --junit sends a report to stdout: the human output then goes to stderr. */
export function reportsToStdout(flags: Pick<CommonFlags, 'json' | 'junit'>): boolean {
  return flags.json === STDOUT_PATH || flags.junit === STDOUT_PATH;
}

// chalk's own detection (supports-color): FORCE_COLOR, TERM=dumb, not a TTY, CI, --color/--no-color.
function detectedLevels(): { stdout: number; stderr: number } {
  return { stdout: supportsColor ? supportsColor.level : 0, stderr: supportsColorStderr ? supportsColorStderr.level : 0 };
}

/** Whether the human output gets colour: --no-color and NO_COLOR (any value, even empty) win, then chalk's detection. */
export function decideColor(flags: Pick<CommonFlags, 'color' | 'json' | 'junit'>, terminal: Terminal): boolean {
  if (flags.color === false || terminal.env.NO_COLOR !== undefined) return false;
  const levels = terminal.colorLevels ?? detectedLevels();
  return (reportsToStdout(flags) ? levels.stderr : levels.stdout) > 0;
}

/** Whether the live tree can be drawn: a real, capable terminal of usable width that is not busy carrying a report. */
export function decideInteractive(flags: Pick<CommonFlags, 'json' | 'junit'>, terminal: Terminal): boolean {
  const ci = Boolean(terminal.env.CI) && terminal.env.CI !== 'false';
  const columns = terminal.columns ?? (terminal.isTTY ? process.stdout.columns : undefined) ?? 0;
  return terminal.isTTY && !ci && terminal.env.TERM !== 'dumb' && columns >= MIN_LIVE_COLUMNS && !reportsToStdout(flags);
}

/** Resolves the CLI side of a run. */
export function resolveRunOptions(command: CommandName, flags: CommonFlags, terminal: Terminal): RunOptions {
  let waitLockMs = 0;
  if (flags.waitLock) {
    try {
      waitLockMs = parseDuration(flags.waitLock);
    } catch (error) {
      throw new UsageError(`--wait-lock: ${(error as Error).message}`);
    }
  }
  if (flags.quiet && flags.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  if (flags.json === STDOUT_PATH && flags.junit === STDOUT_PATH) {
    throw new UsageError('--json - and --junit - both asked for stdout; send one of them to a file, e.g. --junit rearguard.xml');
  }
  const split = (list: string[] | undefined): string[] => (list ?? []).flatMap((item) => item.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    command,
    commandLine: ['rearguard', ...terminal.argv].join(' '),
    dryRun: flags.dryRun ?? false,
    only: split(flags.only),
    skip: split(flags.skip),
    ...(flags.json && { jsonPath: flags.json }),
    ...(flags.junit && { junitPath: flags.junit }),
    color: decideColor(flags, terminal),
    verbose: flags.verbose ?? false,
    quiet: flags.quiet ?? false,
    waitLockMs,
    interactive: decideInteractive(flags, terminal),
  };
}

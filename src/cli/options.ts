// Turns commander's parsed flags and the environment into RunOptions (the only place that reads them).
import type { CommandName, RunOptions } from '../config/types.js';
import { UsageError } from '../errors.js';
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
}

/** Resolves the CLI side of a run. */
export function resolveRunOptions(command: CommandName, flags: CommonFlags, terminal: Terminal): RunOptions {
  const ci = Boolean(terminal.env.CI) && terminal.env.CI !== 'false';
  const forced = terminal.env.FORCE_COLOR !== undefined && terminal.env.FORCE_COLOR !== '0';
  const noColor = flags.color === false || (terminal.env.NO_COLOR !== undefined && terminal.env.NO_COLOR !== '');
  let waitLockMs = 0;
  if (flags.waitLock) {
    try {
      waitLockMs = parseDuration(flags.waitLock);
    } catch (error) {
      throw new UsageError(`--wait-lock: ${(error as Error).message}`);
    }
  }
  if (flags.quiet && flags.verbose) throw new UsageError('--quiet and --verbose cannot be used together');
  const split = (list: string[] | undefined): string[] => (list ?? []).flatMap((item) => item.split(',')).map((s) => s.trim()).filter(Boolean);
  return {
    command,
    commandLine: ['rearguard', ...terminal.argv].join(' '),
    dryRun: flags.dryRun ?? false,
    only: split(flags.only),
    skip: split(flags.skip),
    ...(flags.json && { jsonPath: flags.json }),
    ...(flags.junit && { junitPath: flags.junit }),
    color: !noColor && (forced || (terminal.isTTY && !ci)),
    verbose: flags.verbose ?? false,
    quiet: flags.quiet ?? false,
    waitLockMs,
    interactive: terminal.isTTY && !ci,
  };
}

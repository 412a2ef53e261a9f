// Entry point: parses argv, maps typed errors to exit codes, owns signals. The only place that exits.
import { existsSync } from 'node:fs';
import { CommanderError } from 'commander';
import { ConfigError, LockHeldError, UsageError } from '../errors.js';
import type { Output } from '../report/render-plain.js';
import { createLiveScreen } from '../report/live-screen.js';
import { buildProgram } from './program.js';

/**
 * Signals that stop a run the orderly way (nothing new starts, running units are terminated, the
 * report and metrics are written, the lock is released, exit 2). SIGHUP is how a run ends when the
 * terminal or SSH session that started it closes; SIGQUIT is what Ctrl-backslash sends. Node's default for both is
 * to die on the spot, leaving no report, the lock behind and the units running.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Commands whose checks hash backup files (checksum, archive, offsite). */
const HASHING_COMMANDS = new Set(['verify', 'restore-test']);

/** How long a run may take to end after an internal crash before the process exits anyway. */
const CRASH_GRACE_MS = 60_000;

// The live view's frame on stdout. A TTY's size is asked at every redraw: the terminal may be resized during a run.
const screen = createLiveScreen({
  write: (text) => void process.stdout.write(text),
  size: () => ({ rows: process.stdout.rows ?? 0, columns: process.stdout.columns ?? 0 }),
});

// Any other line (a signal's notice, an error) takes the frame away first, so the next frame is drawn below it.
const stdout: Output = {
  out: (line) => {
    screen.clear();
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    screen.clear();
    process.stderr.write(`${line}\n`);
  },
};

/** Runs the CLI with `argv` (process.argv shape) and resolves to the exit code. */
export async function runCli(argv: string[], output: Output = stdout): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      output.err(`received ${signal}: starting nothing new, stopping running units, then writing the report`);
      controller.abort(signal);
      return;
    }
    if (signal === 'SIGINT') {
      output.err('second SIGINT: exiting at once');
      process.exit(2);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  // An exception thrown in a stream or event callback, or a rejection nobody awaited, would kill Node
  // with exit 1 ("go with warnings") and no report. Instead the run is stopped the orderly way: its
  // report says critical, metrics go out, the lock is released, and the exit code is 2.
  let crash: Error | undefined;
  const onCrash = (error: unknown): void => {
    if (crash) return;
    crash = error instanceof Error ? error : new Error(String(error));
    output.err(`internal error: ${crash.stack ?? crash.message}`);
    controller.abort(`internal error: ${crash.message}`);
    // If the crash left something waiting forever, the process still ends, and says why.
    setTimeout(() => {
      output.err('internal error: the run did not finish within 60s of the crash; exiting without a report');
      output.out(`verdict: critical (exit 2): internal error: ${crash?.message ?? 'unknown'}`);
      process.exit(2);
    }, CRASH_GRACE_MS).unref();
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  let code = 0;
  // Loaded only when a command runs (every command that reads a config loads it anyway): --version and
  // --help then start without the config loader's YAML and schema libraries.
  let resolveModule: typeof import('../config/resolve.js') | undefined;
  try {
    const program = buildProgram(
      {
        output,
        env: process.env,
        isTTY: Boolean(process.stdout.isTTY),
        columns: process.stdout.columns,
        screen,
        argv: argv.slice(2),
        cwd: process.cwd(),
        signal: controller.signal,
        configFile: (flag) => {
          if (!resolveModule) throw new Error('the config loader is not loaded yet');
          return resolveModule.chooseConfigFile(flag, process.env, process.cwd(), existsSync);
        },
      },
      (c) => {
        code = c;
      },
    );
    program.hook('preAction', async (_program, command) => {
      // The commands that hash backups boot a hash worker now, on another core, while the config loads and the
      // plan is made, instead of after it, when the first checksum asks (a worker takes 30–40 ms to start).
      // A worker that cannot start now is no error: the first hash starts one and reports what stops it.
      if (HASHING_COMMANDS.has(command.name())) void import('../util/hash-pool.js').then((pool) => pool.sharedHashPool().prestart(1)).catch(() => undefined);
      resolveModule ??= await import('../config/resolve.js');
    });
    await program.parseAsync(argv);
    if (crash && code !== 2) {
      output.out(`verdict: critical (exit 2): internal error: ${crash.message}`);
      return 2;
    }
    return code;
  } catch (error) {
    return await reportError(error, output);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
  }
}

async function reportError(error: unknown, output: Output): Promise<number> {
  if (error instanceof CommanderError) {
    // Help and version are successes; every usage error blocks the gate.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof ConfigError) {
    for (const line of error.message.split('\n')) output.err(line);
    output.out(`verdict: critical (exit 2): invalid config (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'})`);
    return 2;
  }
  if (error instanceof LockHeldError) {
    output.err(error.message);
    output.out('verdict: critical (exit 2): another run holds the lock; nothing was run and no report or metric was written');
    return 2;
  }
  // Loaded here, not at start-up: it brings the process and cgroup helpers, and whoever threw it has loaded it already.
  const { LeftoverProcessesError } = await import('../state/live-processes.js');
  if (error instanceof LeftoverProcessesError) {
    output.err(error.message);
    output.out(`verdict: critical (exit 2): processes of the killed run ${error.runId} still run; nothing was started`);
    return 2;
  }
  if (error instanceof UsageError) {
    output.err(`error: ${error.message}`);
    output.out(`verdict: critical (exit 2): ${error.message}`);
    return 2;
  }
  output.err(`internal error: ${(error as Error).stack ?? String(error)}`);
  output.out(`verdict: critical (exit 2): internal error: ${(error as Error).message}`);
  return 2;
}

/** The process entry used by bin/rearguard. */
export async function main(argv: string[]): Promise<void> {
  // A closed stdout (`| head`, a dead CI log pipe) must not kill the run before it writes its report.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const code = await runCli(argv);
  // Exit here rather than by draining the event loop: the run is complete (reports written, metrics
  // pushed, lock released) and stdout/stderr writes are synchronous on Linux, so nothing is lost, and a
  // handle a library left open cannot keep a finished gate from answering. It also spares the collector's
  // teardown of native objects, which better-sqlite3 12 does not survive on Node 24.19+ (Node 24 no longer
  // loads it, see src/util/sqlite-driver-source.ts).
  process.exit(code);
}

// Entry point: parses argv, maps typed errors to exit codes, owns signals. The only place that exits.
import { existsSync } from 'node:fs';
import { CommanderError } from 'commander';
import { ConfigError, LockHeldError, UsageError } from '../errors.js';
import { chooseConfigFile } from '../config/resolve.js';
import type { Output } from '../report/render-plain.js';
import { buildProgram } from './program.js';

const stdout: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 0;
  try {
    const program = buildProgram(
      {
        output,
        env: process.env,
        isTTY: Boolean(process.stdout.isTTY),
        argv: argv.slice(2),
        cwd: process.cwd(),
        signal: controller.signal,
        configFile: (flag) => chooseConfigFile(flag, process.env, process.cwd(), existsSync),
      },
      (c) => {
        code = c;
      },
    );
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    return reportError(error, output);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function reportError(error: unknown, output: Output): number {
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
  process.exitCode = code;
}

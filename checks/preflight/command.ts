// Pre-flight command: any argv; exit 0 passes (e.g. pg_isready).
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { formatDuration } from '../../src/util/duration.js';
import type { PreflightCheck } from '../../src/contract/check.js';

type CommandItem = Extract<import('../../src/config/types.js').ResolvedPreflight, { kind: 'command' }>;

/** Runs the command with its timeout; its last output lines explain a failure. */
export const preflightCommandCheck: PreflightCheck<CommandItem> = {
  id: 'command',
  phase: 'preflight',
  effect: 'runs-commands',
  describe: (item) => item.argv.join(' '),
  async run(ctx) {
    const result = await ctx.exec.run({
      argv: ctx.options.argv,
      env: ctx.env,
      timeoutMs: ctx.options.timeoutMs,
      killGraceMs: 2_000,
      signal: ctx.signal,
    });
    const tail = result.output.trim().split('\n').filter(Boolean).slice(-5);
    if (succeeded(result)) return { status: 'ok', message: `${ctx.options.argv.join(' ')}: exit 0` };
    return {
      status: 'failed',
      message: `${ctx.options.argv.join(' ')}: ${describeFailure(result, formatDuration(ctx.options.timeoutMs))}`,
      ...(tail.length > 0 && { details: tail }),
    };
  },
};

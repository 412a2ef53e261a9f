// The restore command rule: an argv run with the restored tree as its working directory (e.g. pg_restore --list).
import { lastLines, OUTPUT_TAIL_LINES } from '../../src/util/tail.js';
import { describeFailure, succeeded, type Exec } from '../../src/exec/types.js';
import { formatDuration } from '../../src/util/duration.js';
import type { RuleContext, RuleOutcome } from './tree-rules.js';

const KILL_GRACE_MS = 5_000;

/** Runs `argv` in the restored tree with the unit's timeout; exit 0 passes, the output's end explains a failure. */
export async function runCommandRule(
  argv: string[],
  ctx: RuleContext & { exec: Exec; env: Record<string, string> },
): Promise<RuleOutcome> {
  const result = await ctx.exec.run({
    argv,
    cwd: ctx.tree,
    env: { ...ctx.env, REARGUARD_RESTORE_DIR: ctx.tree },
    timeoutMs: ctx.timeoutMs,
    killGraceMs: KILL_GRACE_MS,
    signal: ctx.signal,
  });
  const shown = argv.join(' ');
  if (succeeded(result)) return { rule: 'command', ok: true, summary: `command: ${shown}: exit 0`, problems: [] };
  const tail = lastLines(result.output, OUTPUT_TAIL_LINES);
  return {
    rule: 'command',
    ok: false,
    summary: `command: ${shown}: ${describeFailure(result, formatDuration(ctx.timeoutMs))}`,
    problems: [`command: ${shown}: ${describeFailure(result, formatDuration(ctx.timeoutMs))}; exit 0 was expected`, ...tail],
  };
}

// Runs the configured rules over a restored tree and turns them into the restore check's outcome.
import type { CheckContext, CheckOutcome } from '../../src/contract/check.js';
import { runCommandRule } from './command-rule.js';
import { checkGzipRule, checkJsonRule, checkSha256SumsRule, checkSqliteRule, type RuleContext, type RuleOutcome } from './tree-rules.js';

/** The restore check's options: the rules, the scratch base, and the paths a repository restore is limited to. */
export interface RestoreOptions {
  sqlite?: string;
  gzip?: string;
  json?: string;
  sha256sums?: string;
  command?: string[];
  scratch?: string;
  include?: string[];
}

const MAX_DETAILS = 30;

/** Runs sqlite, gzip, json and sha256sums on `tree`, then `command` when they all passed. */
export async function runRestoreRules(
  ctx: CheckContext<RestoreOptions>,
  tree: string,
  timeoutMs: number,
): Promise<{ outcomes: RuleOutcome[]; notes: string[] }> {
  const ruleCtx: RuleContext = { tree, signal: ctx.signal, tempDir: ctx.tempDir, timeoutMs };
  const outcomes: RuleOutcome[] = [];
  if (ctx.options.sqlite) outcomes.push(await checkSqliteRule(ctx.options.sqlite, ruleCtx));
  if (ctx.options.gzip) outcomes.push(await checkGzipRule(ctx.options.gzip, ruleCtx));
  if (ctx.options.json) outcomes.push(await checkJsonRule(ctx.options.json, ruleCtx));
  if (ctx.options.sha256sums) outcomes.push(await checkSha256SumsRule(ctx.options.sha256sums, ruleCtx));
  const filesOk = outcomes.every((o) => o.ok);
  const notes: string[] = [];
  if (ctx.options.command) {
    if (filesOk && !ctx.signal.aborted) {
      outcomes.push(await runCommandRule(ctx.options.command, { ...ruleCtx, exec: ctx.exec, env: ctx.env }));
    } else {
      notes.push(`command: not run, because the rules above failed`);
    }
  }
  return { outcomes, notes };
}

/** The check's outcome once `restored` ("12 entries (3.0 KiB)") came back and the rules ran on it. */
export function judgeRules(restored: string, outcomes: RuleOutcome[], notes: string[]): CheckOutcome {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) {
    const summaries = outcomes.map((o) => o.summary);
    return {
      status: 'ok',
      message: `restored ${restored} into a private scratch folder${summaries.length > 0 ? `; ${summaries.join('; ')}` : '; no rules configured'}`,
    };
  }
  const problems = failed.flatMap((o) => o.problems);
  return {
    status: 'failed',
    message: `restored ${restored}, but ${failed.map((o) => o.rule).join(', ')} failed: ${problems[0] ?? failed[0]!.summary}`,
    details: [...problems, ...notes].slice(0, MAX_DETAILS),
  };
}

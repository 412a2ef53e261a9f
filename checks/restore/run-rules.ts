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

/** What the rules run with: the shared context of the check, whatever its own options are. */
export type RulesContext = Omit<CheckContext<unknown>, 'options'>;

/**
 * Runs sqlite, gzip, json and sha256sums on `tree`, then `command` when they all passed. Outcomes already
 * judged on the archive's stream (`streamed`) are taken as they are instead of reading the tree again.
 */
export async function runRestoreRules(
  ctx: RulesContext,
  options: RestoreOptions,
  tree: string,
  timeoutMs: number,
  streamed: Partial<Record<'gzip' | 'json' | 'sha256sums', RuleOutcome>> = {},
): Promise<{ outcomes: RuleOutcome[]; notes: string[] }> {
  const ruleCtx: RuleContext = { tree, signal: ctx.signal, tempDir: ctx.tempDir, timeoutMs };
  const outcomes: RuleOutcome[] = [];
  if (options.sqlite) outcomes.push(await checkSqliteRule(options.sqlite, ruleCtx));
  if (options.gzip) outcomes.push(streamed.gzip ?? (await checkGzipRule(options.gzip, ruleCtx)));
  if (options.json) outcomes.push(streamed.json ?? (await checkJsonRule(options.json, ruleCtx)));
  if (options.sha256sums) outcomes.push(streamed.sha256sums ?? (await checkSha256SumsRule(options.sha256sums, ruleCtx)));
  const filesOk = outcomes.every((o) => o.ok);
  const notes: string[] = [];
  if (options.command) {
    if (filesOk && !ctx.signal.aborted) {
      outcomes.push(await runCommandRule(options.command, { ...ruleCtx, exec: ctx.exec, env: ctx.env }));
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

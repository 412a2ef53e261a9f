// restore: extract into a fresh private scratch folder (unsafe entries refused), check the tree, always remove it.
import type { ResolvedArtifact } from '../src/config/types.js';
import { formatBytes } from '../src/util/size.js';
import { scanTar } from '../src/util/tar-scan.js';
import { runCommandRule } from './restore/command-rule.js';
import { findUnsafeEntries } from './restore/entry-policy.js';
import { extractInto } from './restore/extract.js';
import { bytesNeeded, checkScratchRoom, makeScratch, removeScratch } from './restore/scratch.js';
import {
  checkGzipRule,
  checkJsonRule,
  checkSha256SumsRule,
  checkSqliteRule,
  type RuleContext,
  type RuleOutcome,
} from './restore/tree-rules.js';
import type { ArtifactCheck, CheckOutcome } from '../src/contract/check.js';

type RestoreOptions = Omit<NonNullable<ResolvedArtifact['restore']>, 'level'>;

const MAX_DETAILS = 30;

function describeRules(options: RestoreOptions): string[] {
  const rules: string[] = [];
  if (options.sqlite) rules.push(`sqlite ${options.sqlite}`);
  if (options.gzip) rules.push(`gzip ${options.gzip}`);
  if (options.json) rules.push(`json ${options.json}`);
  if (options.sha256sums) rules.push(`sha256sums ${options.sha256sums}`);
  if (options.command) rules.push(`command ${options.command.join(' ')}`);
  return rules;
}

/** Proves the archive restores: the only check that writes, and only inside its own scratch folder. */
export const restoreCheck: ArtifactCheck<RestoreOptions> = {
  id: 'restore',
  phase: 'artifact',
  needs: ['content'],
  effect: 'scratch',
  stops: 'at-error',
  // orchestrate and restore-test only: verify stays quick.
  select: (artifact, command) => {
    if (!artifact.restore || (command !== 'orchestrate' && command !== 'restore-test')) return undefined;
    const { level, ...options } = artifact.restore;
    return { options, level };
  },
  describe: (options) => {
    const rules = describeRules(options);
    return `extract into private scratch${rules.length > 0 ? `; ${rules.join(', ')}` : ''}`;
  },
  async run(ctx, target): Promise<CheckOutcome> {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to restore' };
    const scan = await scanTar(file, ctx.signal);
    if (scan.error) return { status: 'failed', message: `${file} cannot be restored: ${scan.error}` };
    if (scan.entries.length === 0) return { status: 'failed', message: `${file} holds no entries: nothing to restore` };

    const refused = findUnsafeEntries(scan.entries);
    if (refused.length > 0) {
      const first = refused[0]!;
      return {
        status: 'failed',
        message: `refused to restore ${file}: ${refused.length} unsafe entr${refused.length === 1 ? 'y' : 'ies'}, first "${first.path}": ${first.reason}; nothing was extracted`,
        details: refused.slice(0, MAX_DETAILS).map((r) => `${r.path}: ${r.reason}`),
      };
    }

    const base = ctx.options.scratch ?? ctx.tempDir;
    const needed = bytesNeeded(scan.contentBytes, scan.entries.length);
    const noRoom = await checkScratchRoom(base, needed);
    if (noRoom) return { status: 'failed', message: noRoom };

    const scratch = await makeScratch(base);
    try {
      try {
        await extractInto(file, scratch, ctx.signal);
      } catch (error) {
        return { status: 'failed', message: `extracting ${file} failed: ${(error as Error).message}` };
      }
      const ruleCtx: RuleContext = { tree: scratch, signal: ctx.signal, tempDir: ctx.tempDir, timeoutMs: target.unitTimeoutMs };
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
      if (ctx.signal.aborted) return { status: 'failed', message: `restore of ${file} stopped: the run was aborted` };
      const restored = `${scan.entries.length} entries (${formatBytes(scan.contentBytes)})`;
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
    } finally {
      await removeScratch(scratch);
    }
  },
};

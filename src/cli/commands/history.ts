// rearguard history [unit]: the verified sizes of each artifact and the baseline the size check uses.
import path from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { describeRange } from '../../../checks/size.js';
import { describeBytes } from '../../util/size.js';
import { buildHistoryViews, type HistoryView } from '../../audit/history-view.js';
import { UsageError } from '../../errors.js';
import { writeReportText } from '../../report/json.js';
import { readAllHistories } from '../../state/history.js';
import type { CommonFlags } from '../options.js';
import { loadForCommand, type CommandIo } from './run.js';
import { buildSizeTrend, renderSizeTrend } from './size-trend.js';

/** Flags of `rearguard history`. */
export interface HistoryFlags extends CommonFlags {
  /** true: JSON to stdout; a string: JSON written to that file. */
  json?: string;
  limit?: string;
}

/**
 * Prints each artifact's size history and baseline. Reads state_dir only; changes nothing.
 * Exit 0, or 1 when a history file is corrupt (it is named, and set aside by the next run that records a size).
 */
export async function historyCommand(flags: HistoryFlags, args: string[], io: CommandIo): Promise<number> {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`--limit: expected a whole number of entries ≥ 1, got "${flags.limit}"`);
  const config = await loadForCommand('plan', { ...flags, json: undefined }, io);
  let views = buildHistoryViews(config, await readAllHistories(config.stateDir));
  const wanted = args[0];
  if (wanted !== undefined) {
    const stages = config.stages.filter((stage) => stage.name === wanted).flatMap((stage) => stage.units.map((unit) => unit.name));
    const selected = views.filter((view) => view.unit === wanted || stages.includes(view.unit));
    if (selected.length === 0) {
      const known = [...new Set(views.map((view) => view.unit))];
      throw new UsageError(`no unit or stage named "${wanted}" has artifacts; units with artifacts are: ${known.join(', ') || 'none'}`);
    }
    views = selected;
  }
  const corrupt = views.filter((view) => view.problem !== undefined);
  if (flags.json !== undefined) {
    const artifacts = views.map((view) => ({ ...view, trend: buildSizeTrend(view.entries.map((e) => e.bytes), view.baseline) }));
    const text = `${JSON.stringify({ schema: 'rearguard.history-view/v1', state_dir: config.stateDir, artifacts }, null, 2)}\n`;
    if (typeof flags.json === 'string') await writeReportText(flags.json, text);
    else io.output.out(text.trimEnd());
  } else {
    const chalk = new Chalk({ level: config.options.color ? 1 : 0 });
    for (const line of renderHistoryViews(views, limit, chalk)) io.output.out(line);
  }
  for (const view of corrupt) io.output.err(`warning: ${view.problem}; the next run that records a size sets it aside as <file>.corrupt-<time>`);
  return corrupt.length > 0 ? 1 : 0;
}

/** The text form of the views: a block per artifact, its size trend, newest entries last. */
export function renderHistoryViews(views: HistoryView[], limit: number, chalk: ChalkInstance = new Chalk({ level: 0 })): string[] {
  const lines: string[] = [];
  for (const view of views) {
    if (lines.length > 0) lines.push('');
    lines.push(`${view.unit}  ${view.pattern}${view.inConfig ? '' : '  (no longer in the config)'}`);
    if (view.problem) {
      lines.push(`  history unreadable: ${view.problem}`);
      continue;
    }
    if (view.entries.length === 0) {
      lines.push('  no verified sizes yet: the first run that passes every check starts the history');
    } else {
      const shown = view.entries.slice(-limit);
      if (shown.length < view.entries.length) lines.push(`  ... ${view.entries.length - shown.length} earlier entr${view.entries.length - shown.length === 1 ? 'y' : 'ies'} (--limit to see more)`);
      const rows = [['VERIFIED AT', 'RUN', 'SIZE', 'FILE'], ...shown.map((e) => [e.at, e.run_id, describeBytes(e.bytes), path.basename(e.file)])];
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
      for (const row of rows) lines.push(`  ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`);
    }
    const trend = buildSizeTrend(view.entries.slice(-limit).map((e) => e.bytes), view.baseline);
    for (const line of renderSizeTrend(trend, chalk, describeBytes)) lines.push(`  ${line}`);
    if (view.dropped > 0) lines.push(`  ${view.dropped} entr${view.dropped === 1 ? 'y was' : 'ies were'} ignored: byte count not a whole number`);
    lines.push(`  ${describeBaseline(view)}`);
    lines.push(`  file: ${view.file}`);
  }
  if (views.length === 0) lines.push('no artifacts in the config and no history in state_dir');
  return lines;
}

function describeBaseline(view: HistoryView): string {
  const min = view.size?.minBytes !== undefined ? `; min ${describeBytes(view.size.minBytes)}` : '';
  if (!view.size) return `baseline: none (no size rule on this artifact)${min}`;
  const bounded = view.size.maxShrinkPct !== undefined || view.size.maxGrowthPct !== undefined;
  if (!view.baseline) return `baseline: none yet (window ${view.size.window})${min}`;
  const rule = [
    view.size.maxShrinkPct !== undefined ? `max_shrink ${view.size.maxShrinkPct}%` : undefined,
    view.size.maxGrowthPct !== undefined ? `max_growth ${view.size.maxGrowthPct}%` : undefined,
  ].filter(Boolean);
  const median = `median ${describeBytes(view.baseline.median)} of the last ${view.baseline.count} (window ${view.baseline.window})`;
  return bounded
    ? `baseline: ${median}; next size allowed ${describeRange(view.baseline)} (${rule.join(', ')})${min}`
    : `baseline: ${median}; no max_shrink/max_growth set, sizes are only recorded${min}`;
}

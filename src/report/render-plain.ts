// Plain renderer: one line per event, no spinners, colour only when asked. For CI, pipes and cron.
import type { ChalkInstance as Chalk } from 'chalk';
import type { RunObserver } from '../engine/observer.js';
import type { CheckResult, RunReport } from './types.js';
import { formatDuration } from '../util/duration.js';
import { formatSummaryTable, formatVerdictLine, statusWord } from './summary.js';

/** Where renderers write. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

function paint(chalk: Chalk, status: string, text: string): string {
  if (status.startsWith('ok')) return chalk.green(text);
  if (status.startsWith('warning') || status.includes('warning level') || status === 'partial') return chalk.yellow(text);
  if (status.startsWith('skipped')) return chalk.dim(text);
  return chalk.red(text);
}

function describeCheck(check: CheckResult): string {
  const details = check.details && check.details.length > 0 ? ` [${check.details.slice(0, 3).join(' | ')}]` : '';
  return `${check.status}: ${check.message}${details}`;
}

/** A renderer that prints a line per event; `quiet` keeps only warnings and the verdict. */
export function createPlainRenderer(output: Output, chalk: Chalk, options: { quiet: boolean; verbose: boolean }): RunObserver {
  const say = (line: string): void => {
    if (!options.quiet) output.out(line);
  };
  return {
    runStarted(plan, info) {
      const units = plan.stages.reduce((n, s) => n + s.units.length, 0);
      say(`rearguard ${plan.command}: run ${info.runId}, ${plan.stages.length} stage(s), ${units} unit(s); logs in ${info.runDir}`);
      for (const note of plan.notes) say(`note: ${note}`);
    },
    preflightFinished(result) {
      say(paint(chalk, result.status, `preflight ${result.id} ${describeCheck(result)}`));
    },
    stageStarted(stage) {
      say(`stage ${stage.name}: ${stage.units.length} unit(s), up to ${stage.concurrency} at once${stage.level === 'warning' ? ', warning level' : ''}`);
    },
    unitStarted(unit, attempt) {
      say(`unit ${unit.stage}/${unit.name}: started${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    },
    unitOutput(unit, line) {
      if (options.verbose) say(chalk.dim(`  ${unit.name} | ${line}`));
    },
    checkFinished(unit, _pattern, check) {
      say(paint(chalk, check.status, `unit ${unit.stage}/${unit.name}: check ${check.id} ${describeCheck(check)}`));
    },
    unitFinished(unit, result) {
      const word = statusWord(result);
      say(paint(chalk, word, `unit ${unit.stage}/${unit.name}: ${word} in ${formatDuration(result.duration_ms)}: ${result.message}`));
      if (result.status !== 'ok' && result.status !== 'skipped' && result.log_tail?.length) {
        say(`  last lines of ${result.log}:`);
        for (const line of result.log_tail.slice(-10)) say(`  | ${line}`);
      }
    },
    stageFinished(stage) {
      const counts = new Map<string, number>();
      for (const unit of stage.units) counts.set(unit.status, (counts.get(unit.status) ?? 0) + 1);
      say(`stage ${stage.name}: done: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
    },
    warning(message) {
      output.err(chalk.yellow(`warning: ${message}`));
    },
    info(message) {
      if (options.verbose) say(chalk.dim(message));
    },
    runFinished(report: RunReport) {
      if (!options.quiet && report.stages.length > 0) {
        say('');
        for (const line of formatSummaryTable(report)) say(line);
        say('');
      }
      output.out(paint(chalk, report.verdict, formatVerdictLine(report)));
    },
  };
}

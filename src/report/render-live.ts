// Interactive renderer for runs taller than the terminal: a compact frame redrawn on a timer, failures printed
// above it as they happen, then the summary in its place.
import type { ChalkInstance } from 'chalk';
import type { RunObserver } from '../engine/observer.js';
import type { Plan } from '../plan/types.js';
import type { LiveScreen } from './live-screen.js';
import { createLiveState, notePreflight, noteStageStarted, noteUnitFinished, noteUnitOutput, noteUnitStarted } from './live-state.js';
import { buildCompactFrame, formatPreflightOutcome, formatUnitOutcome } from './render-compact.js';
import type { Output } from './render-plain.js';
import { formatRunEnd } from './summary.js';
import type { CheckResult, RunReport } from './types.js';

/** How often the frame is redrawn: the spinner and elapsed times move, and events since the last frame show. */
const REDRAW_MS = 100;

/** Renders the run as a compact live frame; `done()` erases it, then prints the summary and verdict. */
export function createCompactRenderer(
  output: Output,
  live: LiveScreen,
  chalk: ChalkInstance,
  plan: Plan,
  options: { verbose: boolean; now?: () => number },
): RunObserver & { done(): Promise<void> } {
  const now = options.now ?? Date.now;
  const state = createLiveState(plan, now());
  // Failed and warning checks per running unit, for the lines printed when it ends.
  const problems = new Map<string, CheckResult[]>();
  let above: string[] = [];
  let warnings: string[] = [];
  let report: RunReport | undefined;
  let stopped = false;

  const draw = (): void => {
    if (stopped) return;
    if (warnings.length > 0) {
      // Warnings go to stderr like the other renderers': the frame is taken away while they are written.
      live.clear();
      for (const warning of warnings) output.err(chalk.yellow(`warning: ${warning}`));
      warnings = [];
    }
    const { rows, columns } = live.size();
    live.draw(above, buildCompactFrame(state, { now: now(), rows, columns, chalk }));
    above = [];
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  draw();

  const stop = (): void => {
    if (stopped) return;
    clearInterval(timer);
    draw();
    live.clear();
    stopped = true;
  };

  return {
    preflightFinished(result) {
      notePreflight(state, result);
      if (result.status !== 'ok' && result.status !== 'skipped') above.push(formatPreflightOutcome(result, chalk));
    },
    stageStarted(stage) {
      noteStageStarted(state, plan, stage);
    },
    unitStarted(unit, attempt) {
      noteUnitStarted(state, unit, attempt, now(), plan.runsUnits);
    },
    unitOutput(unit, line) {
      noteUnitOutput(state, unit, line);
    },
    checkFinished(unit, _pattern, check) {
      if (check.status !== 'failed' && check.status !== 'warning') return;
      const key = `${unit.stage}/${unit.name}`;
      problems.set(key, [...(problems.get(key) ?? []), check]);
    },
    unitFinished(unit, result) {
      noteUnitFinished(state, unit, result);
      const key = `${unit.stage}/${unit.name}`;
      if (result.status !== 'ok' && result.status !== 'skipped') above.push(...formatUnitOutcome(result, problems.get(key) ?? [], chalk));
      problems.delete(key);
    },
    warning(message) {
      warnings.push(message);
    },
    info(message) {
      if (options.verbose) above.push(chalk.dim(message));
    },
    runFinished(finalReport) {
      report = finalReport;
      stop();
    },
    async done() {
      stop();
      if (!report) return;
      for (const line of formatRunEnd(report, chalk)) output.out(line);
    },
  };
}

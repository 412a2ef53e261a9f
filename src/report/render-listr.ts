// Interactive renderer: a live listr2 task tree (pre-flight, stages, units, checks) fed by run events.
import type { ChalkInstance } from 'chalk';
import { Listr, PRESET_TIMER, type ListrTask } from 'listr2';
import type { RunObserver } from '../engine/observer.js';
import type { Plan, PlannedUnit } from '../plan/types.js';
import { formatDuration } from '../util/duration.js';
import type { Output } from './render-plain.js';
import { formatRunEnd, statusWord } from './summary.js';
import type { CheckResult, RunReport, UnitResult } from './types.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  settled: boolean;
}

function defer<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  const deferred: Deferred<T> = {
    promise,
    settled: false,
    resolve(value) {
      if (deferred.settled) return;
      deferred.settled = true;
      resolve(value);
    },
  };
  return deferred;
}

interface UnitView {
  started: Deferred<void>;
  finished: Deferred<UnitResult | undefined>;
  checks: string[];
  setOutput?: (text: string) => void;
}

/** Renders the run as a live task tree; `done()` waits for the tree, then prints the summary and verdict. */
export function createListrRenderer(
  output: Output,
  chalk: ChalkInstance,
  plan: Plan,
  options: { verbose: boolean },
): RunObserver & { done(): Promise<void> } {
  const preflight = plan.preflight.map(() => defer<CheckResult | undefined>());
  const units = new Map<string, UnitView>();
  for (const stage of plan.stages) {
    for (const unit of stage.units) units.set(unit.name, { started: defer(), finished: defer(), checks: [] });
  }
  const warnings: string[] = [];
  let report: RunReport | undefined;
  const persistent = { persistentOutput: true, timer: PRESET_TIMER } as const;

  const unitTask = (unit: PlannedUnit): ListrTask => ({
    title: `${unit.name} ${chalk.dim('(queued)')}`,
    rendererOptions: persistent,
    task: async (_ctx, task) => {
      const view = units.get(unit.name)!;
      view.setOutput = (text) => (task.output = text);
      await Promise.race([view.started.promise, view.finished.promise]);
      task.title = unit.name;
      const result = await view.finished.promise;
      if (!result || result.status === 'skipped') {
        task.skip(`${unit.name}: ${result?.message ?? 'not run'}`);
        return;
      }
      const title = `${unit.name} ${chalk.dim(`${statusWord(result)}, ${formatDuration(result.duration_ms)}`)}`;
      task.output = [...view.checks, ...(result.log_tail?.slice(-5).map((l) => chalk.dim(`| ${l}`)) ?? [])].join('\n');
      if (result.status === 'failed' || result.status === 'timeout') {
        task.title = title;
        throw new Error(`${unit.name}: ${statusWord(result)}: ${result.message}`);
      }
      task.title = result.status === 'warning' ? `${title} ${chalk.yellow(result.message)}` : title;
    },
  });

  const tasks: ListrTask[] = [];
  if (plan.preflight.length > 0) {
    tasks.push({
      title: 'Pre-flight',
      task: (_ctx, task) =>
        task.newListr(
          plan.preflight.map((item, i) => ({
            title: `${item.id}: ${item.description}`,
            task: async (_c, sub) => {
              const result = await preflight[i]!.promise;
              if (!result) return sub.skip(`${item.id}: not run`);
              sub.title = `${item.id}: ${result.message}`;
              if (result.status === 'failed') throw new Error(`${item.id}: ${result.message}`);
              return undefined;
            },
          })),
          { concurrent: true, exitOnError: false },
        ),
    });
  }
  for (const stage of plan.stages) {
    tasks.push({
      title: `Stage ${stage.name} ${chalk.dim(`(${stage.units.length} unit(s), ${stage.concurrency} at once${stage.level === 'warning' ? ', warning level' : ''})`)}`,
      task: (_ctx, task) => task.newListr(stage.units.map(unitTask), { concurrent: true, exitOnError: false }),
    });
  }
  const listr = new Listr(tasks, {
    concurrent: false,
    exitOnError: false,
    registerSignalListeners: false,
    rendererOptions: { collapseSubtasks: false, showErrorMessage: true, timer: PRESET_TIMER },
  });
  const running = listr.run().catch(() => undefined);

  const settleAll = (): void => {
    for (const d of preflight) d.resolve(undefined);
    for (const [name, view] of units) {
      const result = report?.stages.flatMap((s) => s.units).find((u) => u.name === name);
      view.started.resolve();
      view.finished.resolve(result);
    }
  };

  return {
    preflightFinished(result) {
      const index = plan.preflight.findIndex((p, i) => p.id === result.id && !preflight[i]!.settled && p.description === result.target);
      preflight[index >= 0 ? index : plan.preflight.findIndex((_p, i) => !preflight[i]!.settled)]?.resolve(result);
    },
    unitStarted(unit, attempt) {
      const view = units.get(unit.name);
      view?.started.resolve();
      if (attempt > 1) view?.setOutput?.(`attempt ${attempt}`);
    },
    unitOutput(unit, line) {
      if (options.verbose) units.get(unit.name)?.setOutput?.(line);
    },
    checkFinished(unit, _pattern, check) {
      const view = units.get(unit.name);
      if (!view) return;
      const color = check.status === 'ok' ? chalk.green : check.status === 'skipped' ? chalk.dim : check.status === 'warning' ? chalk.yellow : chalk.red;
      view.checks.push(color(`${check.id}: ${check.status}: ${check.message}`));
      view.setOutput?.(view.checks.join('\n'));
    },
    unitFinished(unit, result) {
      units.get(unit.name)?.finished.resolve(result);
    },
    warning(message) {
      warnings.push(message);
    },
    runFinished(finalReport) {
      report = finalReport;
      settleAll();
    },
    async done() {
      settleAll();
      await running;
      for (const warning of warnings) output.err(chalk.yellow(`warning: ${warning}`));
      if (!report) return;
      for (const line of formatRunEnd(report, chalk)) output.out(line);
    },
  };
}

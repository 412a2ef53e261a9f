// RunObserver: what the engine tells renderers as a run goes; renderers never drive the engine.
import type { Plan, PlannedStage, PlannedUnit } from '../plan/types.js';
import type { CheckResult, RunReport, StageResult, UnitResult } from '../report/types.js';

/** Events of a run, in order. Every method is optional. */
export interface RunObserver {
  runStarted?(plan: Plan, info: { runId: string; runDir: string }): void;
  preflightFinished?(result: CheckResult): void;
  stageStarted?(stage: PlannedStage): void;
  unitStarted?(unit: PlannedUnit, attempt: number): void;
  /** A line of unit output (only with --verbose). */
  unitOutput?(unit: PlannedUnit, line: string): void;
  checkFinished?(unit: PlannedUnit, pattern: string, result: CheckResult): void;
  unitFinished?(unit: PlannedUnit, result: UnitResult): void;
  stageFinished?(stage: StageResult): void;
  warning?(message: string): void;
  info?(message: string): void;
  runFinished?(report: RunReport): void;
}

/** Fans events out to several observers. */
export function combineObservers(observers: RunObserver[]): Required<RunObserver> {
  const call =
    <K extends keyof RunObserver>(key: K) =>
    (...args: Parameters<NonNullable<RunObserver[K]>>): void => {
      for (const observer of observers) (observer[key] as ((...a: unknown[]) => void) | undefined)?.apply(observer, args);
    };
  return {
    runStarted: call('runStarted'),
    preflightFinished: call('preflightFinished'),
    stageStarted: call('stageStarted'),
    unitStarted: call('unitStarted'),
    unitOutput: call('unitOutput'),
    checkFinished: call('checkFinished'),
    unitFinished: call('unitFinished'),
    stageFinished: call('stageFinished'),
    warning: call('warning'),
    info: call('info'),
    runFinished: call('runFinished'),
  };
}

// What the compact live view knows during a run: progress counts, the running units, the stage; fed by run events.
import type { Plan, PlannedStage, PlannedUnit } from '../plan/types.js';
import type { CheckResult, UnitResult } from './types.js';

/** A unit that is running now, as the live view shows it. */
export interface RunningUnit {
  name: string;
  stage: string;
  /** When its current attempt started (ms, the clock the view was given). */
  startedAt: number;
  /** Its timeout; absent when the command runs no units and only checks artifacts. */
  timeoutMs?: number;
  attempt: number;
  /** The last line it printed (only with --verbose). */
  lastLine?: string;
}

/** Finished units by outcome; `failed` includes timeouts. */
export interface DoneCounts {
  ok: number;
  warning: number;
  failed: number;
  skipped: number;
}

/** The state of a run for the live view. */
export interface LiveState {
  command: string;
  startedAt: number;
  /** Units in the plan. */
  total: number;
  stageCount: number;
  /** The stage running now (index from 1); absent before the first one. */
  stage?: { name: string; index: number; concurrency: number; level: PlannedStage['level'] };
  preflight: { total: number; done: number; failed: number };
  /** Running units by `stage/name`, in the order they started. */
  running: Map<string, RunningUnit>;
  done: DoneCounts;
  /** Names of the units that failed or timed out, in the order they ended. */
  failedNames: string[];
}

const keyOf = (unit: { stage: string; name: string }): string => `${unit.stage}/${unit.name}`;

/** A fresh state for a plan about to run. */
export function createLiveState(plan: Plan, now: number): LiveState {
  return {
    command: plan.command,
    startedAt: now,
    total: plan.stages.reduce((n, stage) => n + stage.units.length, 0),
    stageCount: plan.stages.length,
    preflight: { total: plan.preflight.length, done: 0, failed: 0 },
    running: new Map(),
    done: { ok: 0, warning: 0, failed: 0, skipped: 0 },
    failedNames: [],
  };
}

/** Units neither finished nor running. */
export function countQueued(state: LiveState): number {
  const { ok, warning, failed, skipped } = state.done;
  return Math.max(0, state.total - ok - warning - failed - skipped - state.running.size);
}

/** Records a finished pre-flight check. */
export function notePreflight(state: LiveState, result: CheckResult): void {
  state.preflight.done += 1;
  if (result.status === 'failed') state.preflight.failed += 1;
}

/** Records the start of a stage. */
export function noteStageStarted(state: LiveState, plan: Plan, stage: PlannedStage): void {
  const index = plan.stages.findIndex((s) => s.name === stage.name) + 1;
  state.stage = { name: stage.name, index: index > 0 ? index : 1, concurrency: stage.concurrency, level: stage.level };
}

/** Records the start of a unit's attempt; `timeouts` is false when the command runs no units. */
export function noteUnitStarted(state: LiveState, unit: PlannedUnit, attempt: number, now: number, timeouts: boolean): void {
  state.running.set(keyOf(unit), {
    name: unit.name,
    stage: unit.stage,
    startedAt: now,
    attempt,
    ...(timeouts && unit.timeoutMs > 0 && { timeoutMs: unit.timeoutMs }),
  });
}

/** Records a line a running unit printed. */
export function noteUnitOutput(state: LiveState, unit: PlannedUnit, line: string): void {
  const running = state.running.get(keyOf(unit));
  if (running) running.lastLine = line;
}

/** Records a finished unit. */
export function noteUnitFinished(state: LiveState, unit: PlannedUnit, result: UnitResult): void {
  state.running.delete(keyOf(unit));
  const bucket = result.status === 'timeout' ? 'failed' : result.status;
  state.done[bucket] += 1;
  if (bucket === 'failed') state.failedNames.push(unit.name);
}

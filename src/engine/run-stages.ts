// Pre-flight, then the stages in order (units inside a stage at its concurrency); fills in the run's results.
import pLimit from 'p-limit';
import type { ResolvedConfig } from '../config/types.js';
import type { Exec } from '../exec/types.js';
import type { Plan, PlannedUnit } from '../plan/types.js';
import type { CheckResult, StageResult, UnitResult } from '../report/types.js';
import type { Redactor } from '../util/secrets.js';
import type { RunObserver } from './observer.js';
import { runPreflight } from './preflight.js';
import { abortReason, runUnit } from './run-unit.js';
import { unitIdentity } from './unit-identity.js';
import type { SharedCheckContext } from './verify-artifact.js';

/** What the stages need from the run. */
export interface StagesContext {
  config: ResolvedConfig;
  plan: Plan;
  runId: string;
  runDir: string;
  exec: Exec;
  signal: AbortSignal;
  redactor: Redactor;
  shared: SharedCheckContext;
  observer: Required<RunObserver>;
  /** Told of problems around the backups (a corrupt history set aside). */
  onWarning: (message: string) => void;
}

/** Runs pre-flight and the stages; results are pushed as they finish, so an internal error keeps what ran. */
export async function runStages(ctx: StagesContext, results: { preflight: CheckResult[]; stages: StageResult[] }): Promise<void> {
  const { plan, observer, signal } = ctx;
  results.preflight = await runPreflight(plan, ctx.shared, ctx.config.stateDir, (result) => observer.preflightFinished(result));
  // A signal during pre-flight also fails the pre-flight it stops: the signal is the reason nothing starts.
  const blocked = signal.aborted ? abortReason(signal) : results.preflight.some((check) => check.status === 'failed') ? 'pre-flight failed' : undefined;
  for (const stage of plan.stages) {
    if (blocked) {
      results.stages.push({ name: stage.name, level: stage.level, units: stage.units.map((unit) => skippedUnit(unit, `not started: ${blocked}`)) });
      continue;
    }
    observer.stageStarted(stage);
    const limit = pLimit(stage.concurrency);
    const units = await Promise.all(stage.units.map((unit) => limit(() => runOneUnit(unit, ctx))));
    const result: StageResult = { name: stage.name, level: stage.level, units };
    results.stages.push(result);
    observer.stageFinished(result);
  }
}

async function runOneUnit(unit: PlannedUnit, ctx: StagesContext): Promise<UnitResult> {
  const { observer } = ctx;
  const result = await runUnit(unit, {
    config: ctx.config,
    runsUnits: ctx.plan.runsUnits,
    recordHistory: ctx.plan.effects.history,
    runId: ctx.runId,
    runDir: ctx.runDir,
    exec: ctx.exec,
    signal: ctx.signal,
    redactor: ctx.redactor,
    shared: ctx.shared,
    onStart: (attempt) => observer.unitStarted(unit, attempt),
    ...(ctx.config.options.verbose && { onOutput: (line: string) => observer.unitOutput(unit, line) }),
    onCheck: (pattern, check) => observer.checkFinished(unit, pattern, check),
    onWarning: ctx.onWarning,
  });
  observer.unitFinished(unit, result);
  return result;
}

function skippedUnit(unit: PlannedUnit, message: string): UnitResult {
  return { ...unitIdentity(unit), status: 'skipped', message, exit_code: null, attempts: 0, duration_ms: 0, artifacts: [] };
}

// executeRun: carries out a Plan: lock, pre-flight, stages, verdict, reports and metrics on every path.
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ResolvedConfig } from '../config/types.js';
import { createExec } from '../exec/index.js';
import type { Plan } from '../plan/types.js';
import { writeJsonReport } from '../report/json.js';
import { assembleReport, writeReportFiles } from '../report/assemble.js';
import { publishMetrics } from '../report/metrics.js';
import { sendNotifications } from '../report/notify.js';
import type { CheckResult, RunReport, StageResult, UnitResult } from '../report/types.js';
import { LockHeldError } from '../errors.js';
import { acquireLock, type Lock } from '../state/lock.js';
import { createRunDir, makeRunId } from '../state/run-dir.js';
import { formatDuration } from '../util/duration.js';
import { Redactor } from '../util/secrets.js';
import { combineObservers, type RunObserver } from './observer.js';
import { runPreflight } from './preflight.js';
import { abortReason, runUnit } from './run-unit.js';
import { unitIdentity } from './unit-identity.js';
import { decideVerdict } from './verdict.js';
import type { SharedCheckContext } from './verify-artifact.js';

/** What executeRun needs besides the config and plan. */
export interface RunDeps {
  observers: RunObserver[];
  /** Aborted by the CLI on SIGINT/SIGTERM, with the signal name as reason. */
  signal: AbortSignal;
}

/**
 * Runs the plan and returns the final report. Throws only LockHeldError (before anything ran);
 * every other failure ends in a report with verdict critical.
 */
export async function executeRun(config: ResolvedConfig, plan: Plan, deps: RunDeps): Promise<RunReport> {
  const observer = combineObservers(deps.observers);
  const started = new Date();
  const runId = makeRunId(started);
  const notes: string[] = [];
  let lock: Lock | undefined;

  const redactor = new Redactor();
  const exec = createExec({ hosts: config.hosts, stateDir: config.stateDir, env: config.env });
  let preflight: CheckResult[] = [];
  const stages: StageResult[] = [];
  let internalError: string | undefined;
  const historyWarnings: string[] = [];
  try {
    lock = await acquireLock({
      stateDir: config.stateDir,
      holder: { command: config.options.commandLine, started_at: started.toISOString(), run_id: runId },
      waitMs: config.options.waitLockMs,
      signal: deps.signal,
      onWait: (holder) =>
        observer.warning(
          `waiting up to ${formatDuration(config.options.waitLockMs)} for the lock${holder ? `, held by pid ${holder.pid} on ${holder.host} ("${holder.command}", started ${holder.started_at})` : ''}`,
        ),
    });
    if (lock.recovered) {
      const r = lock.recovered;
      const note = `recovered a stale lock left by pid ${r.pid} on ${r.host} ("${r.command}", started ${r.started_at}), which no longer runs`;
      notes.push(note);
      observer.warning(note);
    }
    const runDir = await createRunDir(config.stateDir, runId);
    observer.runStarted(plan, { runId, runDir });
    const shared: SharedCheckContext = {
      command: plan.command,
      runId,
      exec,
      signal: deps.signal,
      log: (line) => observer.info(line),
      hosts: config.hosts,
      systemctl: config.defaults.systemctl,
      tempDir: os.tmpdir(),
      env: config.env,
      now: Date.now,
    };
    preflight = await runPreflight(plan, shared, config.stateDir, (result) => observer.preflightFinished(result));
    const blocked = preflight.some((check) => check.status === 'failed')
      ? 'pre-flight failed'
      : deps.signal.aborted
        ? abortReason(deps.signal)
        : undefined;

    for (const stage of plan.stages) {
      if (blocked) {
        stages.push({ name: stage.name, level: stage.level, units: stage.units.map((unit) => skippedUnit(unit, `not started: ${blocked}`)) });
        continue;
      }
      observer.stageStarted(stage);
      const limit = pLimit(stage.concurrency);
      const units = await Promise.all(
        stage.units.map((unit) =>
          limit(async () => {
            const result = await runUnit(unit, {
              config,
              command: plan.command,
              runId,
              runDir,
              exec,
              signal: deps.signal,
              redactor,
              shared,
              onStart: (attempt) => observer.unitStarted(unit, attempt),
              ...(config.options.verbose && { onOutput: (line: string) => observer.unitOutput(unit, line) }),
              onCheck: (pattern, check) => observer.checkFinished(unit, pattern, check),
              onWarning: (message) => {
                historyWarnings.push(message);
                observer.warning(message);
              },
            });
            observer.unitFinished(unit, result);
            return result;
          }),
        ),
      );
      const result: StageResult = { name: stage.name, level: stage.level, units };
      stages.push(result);
      observer.stageFinished(result);
    }
  } catch (error) {
    // Another run holds the lock: nothing ran, and its reports and metrics are not ours to overwrite.
    if (error instanceof LockHeldError) throw error;
    internalError = (error as Error).stack ?? String(error);
    observer.warning(`internal error: ${(error as Error).message}`);
  } finally {
    await exec.close().catch(() => undefined);
  }

  const planned = plan.stages.reduce((n, stage) => n + stage.units.length, 0);
  const gateInput = {
    preflight,
    stages,
    maxFailureRatio: config.gate.maxFailureRatio,
    planned,
    ...(deps.signal.aborted && { abortedBy: typeof deps.signal.reason === 'string' ? deps.signal.reason : 'signal' }),
    ...(internalError && { internalError: internalError.split('\n')[0] ?? internalError }),
  };
  const build = (warnings: string[]): RunReport => {
    const decision = decideVerdict({ ...gateInput, warnings });
    return assembleReport({
      runId,
      command: plan.command,
      configFile: config.file,
      started,
      decision,
      reason: redactor.redact(decision.reason),
      warnings: warnings.map((w) => redactor.redact(w)),
      notes,
      preflight,
      stages,
    });
  };

  // Metrics go out first: a failed push is itself a warning that the final report must show.
  const metricWarnings = await publishMetrics(build(historyWarnings), config).catch((error: Error) => [`metrics: ${error.message}`]);
  for (const warning of metricWarnings) observer.warning(warning);
  let report = build([...historyWarnings, ...metricWarnings]);
  const deliveryWarnings = await sendNotifications(report, config).catch((error: Error) => [`notify: ${error.message}`]);
  for (const warning of deliveryWarnings) observer.warning(warning);
  if (deliveryWarnings.length > 0) report = build([...historyWarnings, ...metricWarnings, ...deliveryWarnings]);

  await writeReportFiles(
    report,
    { json: config.options.jsonPath ?? config.report.json, junit: config.options.junitPath ?? config.report.junit },
    (message) => observer.warning(message),
  );
  // Every run keeps its own report beside its logs; `audit` reads the last runs' verdicts from there.
  await writeJsonReport(path.join(config.stateDir, 'runs', runId, 'report.json'), report).catch((error: Error) =>
    observer.warning(`could not keep the report in state_dir/runs/${runId}: ${error.message}`),
  );
  observer.runFinished(report);
  await lock?.release();
  return report;
}

function skippedUnit(unit: Plan['stages'][number]['units'][number], message: string): UnitResult {
  return {
    ...unitIdentity(unit),
    status: 'skipped',
    message,
    exit_code: null,
    attempts: 0,
    duration_ms: 0,
    artifacts: [],
  };
}


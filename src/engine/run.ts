// executeRun: carries out a Plan: the lock around pre-flight and stages, then one report, delivered on every path.
import { describeLeftovers, LeftoverProcessesError } from '../state/live-processes.js';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { createExec, type RunExec } from '../exec/index.js';
import type { Plan } from '../plan/types.js';
import { STDOUT_PATH } from '../report/json.js';
import type { RunReport } from '../report/types.js';
import { LockHeldError } from '../errors.js';
import { removeInterruptedWrites } from '../state/atomic.js';
import { historyDir } from '../state/history.js';
import type { Lock } from '../state/lock.js';
import { createRunDir, isRunId, makeRunId, pruneRunDirs } from '../state/run-dir.js';
import { formatDuration } from '../util/duration.js';
import { Redactor } from '../util/secrets.js';
import { buildRunReport, type RunResults } from './build-report.js';
import { deliverRun } from './deliver.js';
import { combineObservers, type RunObserver } from './observer.js';
import { runStages } from './run-stages.js';
import type { SharedCheckContext } from './verify-artifact.js';
import { withLock } from './with-lock.js';

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
  const redactor = new Redactor();
  const results: RunResults = {
    runId,
    command: plan.command,
    configFile: config.file,
    started,
    preflight: [],
    stages: [],
    planned: plan.stages.reduce((n, stage) => n + stage.units.length, 0),
    maxFailureRatio: config.gate.maxFailureRatio,
    notes: [],
    warnings: [...config.warnings],
  };
  for (const warning of config.warnings) observer.warning(warning);
  let report: RunReport | undefined;
  // Runs once, inside the lock when it was taken, after it otherwise.
  const finish = async (): Promise<RunReport> => {
    if (deps.signal.aborted) results.abortedBy = typeof deps.signal.reason === 'string' ? deps.signal.reason : 'signal';
    report ??= await deliverRun((extra) => buildRunReport(results, extra, new Date(), redactor), {
      config,
      effects: plan.effects,
      runId,
      warn: (message) => observer.warning(message),
    });
    observer.runFinished(report);
    return report;
  };
  const lockOptions = {
    stateDir: config.stateDir,
    holder: { command: config.options.commandLine, started_at: started.toISOString(), run_id: runId },
    waitMs: config.options.waitLockMs,
    signal: deps.signal,
    leftovers: config.defaults.leftovers,
    onWait: (holder: Parameters<NonNullable<Parameters<typeof withLock>[0]['onWait']>>[0]) =>
      observer.warning(
        `waiting up to ${formatDuration(config.options.waitLockMs)} for the lock${holder ? `, held by pid ${holder.pid} on ${holder.host} ("${holder.command}", started ${holder.started_at})` : ''}`,
      ),
  };
  const work = async (lock?: Lock): Promise<RunReport> => {
    if (lock) noteRecoveredLock(lock, results, observer);
    if (lock?.recovered) await removeKilledRunWrites(config, lock.recovered, results, observer);
    await runPlannedWork(config, plan, deps, results, redactor, observer);
    return finish();
  };
  try {
    return plan.effects.lock ? await withLock(lockOptions, work) : await work();
  } catch (error) {
    // Another run holds the lock: nothing ran, and its reports and metrics are not ours to overwrite.
    // Or it left processes running and the config says to refuse: nothing ran either.
    if (error instanceof LockHeldError || error instanceof LeftoverProcessesError) throw error;
    if (!report) failInternally(results, error, observer);
    return finish();
  }
}

/** The run folder, the check context and the stages; an internal error becomes part of the results. */
async function runPlannedWork(
  config: ResolvedConfig,
  plan: Plan,
  deps: RunDeps,
  results: RunResults,
  redactor: Redactor,
  observer: ReturnType<typeof combineObservers>,
): Promise<void> {
  let exec: RunExec | undefined;
  let pruning: Promise<string[]> | undefined;
  const warn = (message: string): void => {
    results.warnings.push(message);
    observer.warning(message);
  };
  try {
    const runDir = await createRunDir(config.stateDir, results.runId);
    // Old run folders go while the units run (removing one is hundreds of file system calls, which kept the first
    // unit waiting); what could not be removed is a warning, told at the end: housekeeping never stops a deploy.
    pruning = pruneRunDirs(config.stateDir, results.runId, config.keepRuns);
    // Live processes are recorded in the run folder, so the run that recovers a stale lock can stop them.
    exec = createExec({ hosts: config.hosts, stateDir: config.stateDir, env: config.env, runDir, cgroups: config.defaults.cgroups });
    results.containment = exec.containment();
    observer.runStarted(plan, { runId: results.runId, runDir });
    const shared: SharedCheckContext = {
      command: plan.command,
      runId: results.runId,
      exec,
      signal: deps.signal,
      hosts: config.hosts,
      systemctl: config.defaults.systemctl,
      tempDir: os.tmpdir(),
      env: config.env,
      now: Date.now,
    };
    await runStages(
      { config, plan, runId: results.runId, runDir, exec, signal: deps.signal, redactor, shared, observer, onWarning: warn },
      results,
    );
  } catch (error) {
    failInternally(results, error, observer);
  } finally {
    await exec?.close().catch(() => undefined);
    for (const problem of (await pruning) ?? []) warn(problem);
  }
}

function failInternally(results: RunResults, error: unknown, observer: ReturnType<typeof combineObservers>): void {
  // The reason names the failure; the error's own "Error: " prefix (its stack's first line) would say it twice.
  results.internalError = error instanceof Error ? error.message : String(error);
  observer.warning(`internal error: ${(error as Error).message}`);
}

function noteRecoveredLock(lock: Lock, results: RunResults, observer: ReturnType<typeof combineObservers>): void {
  const r = lock.recovered;
  if (!r) return;
  const notes = [`recovered a stale lock left by pid ${r.pid} on ${r.host} ("${r.command}", started ${r.started_at}), which no longer runs`];
  if (lock.leftovers) {
    const { stopped, survivors } = lock.leftovers;
    const pids = stopped.reduce((n, leftover) => n + leftover.pids.length, 0);
    notes.push(`stopped ${pids} process(es) left running by the killed run ${r.run_id ?? 'unknown'}: ${describeLeftovers(stopped)}`);
    if (survivors.length > 0) {
      const warning = `processes of the killed run ${r.run_id ?? 'unknown'} survived SIGKILL: ${describeLeftovers(survivors)}`;
      results.warnings.push(warning);
      observer.warning(warning);
    }
  }
  for (const note of notes) {
    results.notes.push(note);
    observer.warning(note);
  }
}

/** Removes the temp files of the atomic writes a killed run never renamed into place (history, its record, the reports), and says so. */
async function removeKilledRunWrites(
  config: ResolvedConfig,
  killed: NonNullable<Lock['recovered']>,
  results: RunResults,
  observer: ReturnType<typeof combineObservers>,
): Promise<void> {
  // Only what the killed run can have written: nothing older than its start.
  const since = new Date(killed.started_at);
  if (Number.isNaN(since.getTime())) return;
  const removed = await removeInterruptedWrites(historyDir(config.stateDir), (name) => name.endsWith('.json'), since);
  if (killed.run_id && isRunId(killed.run_id)) {
    removed.push(...(await removeInterruptedWrites(path.join(config.stateDir, 'runs', killed.run_id), (name) => name === 'report.json', since)));
  }
  const reports = [config.options.jsonPath ?? config.report.json, config.options.junitPath ?? config.report.junit, config.metrics.textfile];
  for (const file of reports) {
    if (file && file !== STDOUT_PATH) removed.push(...(await removeInterruptedWrites(path.dirname(file), (name) => name === path.basename(file), since)));
  }
  if (removed.length === 0) return;
  const note = `removed ${removed.length} temp file(s) the killed run left mid-write, never renamed into place: ${removed.join(', ')}`;
  results.notes.push(note);
  observer.warning(note);
}

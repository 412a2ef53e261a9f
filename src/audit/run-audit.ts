// runAudit: the read-only audit. The plan's read-only pre-flight and artifact checks run through the same
// engine pieces as verify; audit adds its findings about state and config, and its own gate.
import os from 'node:os';
import type { ResolvedConfig } from '../config/types.js';
import { combineObservers, type RunObserver } from '../engine/observer.js';
import { runPreflight } from '../engine/preflight.js';
import { unitIdentity } from '../engine/unit-identity.js';
import { verifyUnitArtifacts } from '../engine/unit/verify-artifacts.js';
import type { SharedCheckContext } from '../engine/verify-artifact.js';
import { createExec } from '../exec/index.js';
import type { Plan, PlannedUnit } from '../plan/types.js';
import { assembleReport, writeReportFiles } from '../report/assemble.js';
import type { ArtifactResult, CheckResult, RunReport, StageResult, UnitResult } from '../report/types.js';
import { makeRunId } from '../state/run-dir.js';
import { judgeLastChecks } from './check-findings.js';
import { judgeConfig } from './config-findings.js';
import { gatherAuditFacts, type AuditFacts } from './gather.js';
import { judgeHeadroom, judgeHistoryHealth, judgeLastRuns, judgeStateSize, judgeTempFiles } from './state-findings.js';
import { judgeTrends } from './trend-findings.js';
import { decideAuditVerdict } from './verdict.js';

/** Every finding about state and config, in the order they are shown after the pre-flight checks. */
export function judgeGlobal(config: ResolvedConfig, plan: Plan, facts: AuditFacts): CheckResult[] {
  return [
    judgeLastRuns(facts),
    ...judgeHeadroom(config, facts),
    judgeStateSize(config, facts),
    ...judgeHistoryHealth(facts),
    ...judgeTempFiles(facts),
    ...judgeTrends(facts),
    ...judgeLastChecks(config, plan, facts),
    ...judgeConfig(config, plan.excluded),
    ...config.warnings.map(
      (message): CheckResult => ({ id: 'file-trust', target: config.file, status: 'warning', level: 'warning', message, duration_ms: 0 }),
    ),
  ];
}

/** One unit's audit result from its artifacts' checks: failed when one fails at level error. */
export function judgeUnit(unit: PlannedUnit, artifacts: ArtifactResult[]): UnitResult {
  const checks = artifacts.flatMap((a) => a.checks);
  const failed = checks.filter((c) => c.status === 'failed');
  const warned = checks.filter((c) => c.status === 'warning');
  const status: UnitResult['status'] =
    unit.artifacts.length === 0 ? 'skipped' : failed.length > 0 ? 'failed' : warned.length > 0 ? 'warning' : 'ok';
  const message =
    status === 'skipped'
      ? 'no artifacts configured: nothing to audit'
      : failed.length > 0
        ? `audit failed: ${failed[0]!.id}: ${failed[0]!.message}`
        : warned.length > 0
          ? `warning: ${warned.map((c) => `${c.id}: ${c.message}`).join('; ')}`
          : `${artifacts.length} artifact(s) look healthy`;
  return { ...unitIdentity(unit), status, message, exit_code: null, attempts: 0, duration_ms: 0, artifacts };
}

/** Where the audit report goes: only files named on the command line (never report.json of the config). */
export interface AuditOutputs {
  observers: RunObserver[];
  jsonPath?: string;
  junitPath?: string;
  signal: AbortSignal;
}

/** Runs the audit. It runs no unit or command and writes nothing but the reports named in `outputs`. */
export async function runAudit(config: ResolvedConfig, plan: Plan, outputs: AuditOutputs): Promise<RunReport> {
  const observer = combineObservers(outputs.observers);
  const started = new Date();
  const runId = makeRunId(started);
  const facts = await gatherAuditFacts(config, plan, started.getTime());
  const notes: string[] = ['audit is read-only: it ran no unit or command and wrote nothing but the reports asked for with --json/--junit'];
  if (facts.lockHolder) notes.push(`a run is in progress (${facts.lockHolder}): artifacts may be half written`);

  observer.runStarted(plan, { runId, runDir: 'none (audit is read-only)' });
  for (const note of notes.slice(1)) observer.warning(note);
  const exec = createExec({ hosts: config.hosts, stateDir: config.stateDir, env: config.env });
  const stages: StageResult[] = [];
  let findings: CheckResult[];
  try {
    const shared: SharedCheckContext = {
      command: plan.command,
      runId,
      exec,
      signal: outputs.signal,
      hosts: config.hosts,
      systemctl: config.defaults.systemctl,
      tempDir: os.tmpdir(),
      env: config.env,
      now: () => facts.now,
    };
    const preflight = await runPreflight(plan, shared, config.stateDir, (result) => observer.preflightFinished(result));
    const global = judgeGlobal(config, plan, facts);
    for (const finding of global) observer.preflightFinished(finding);
    findings = [...preflight, ...global];
    for (const stage of plan.stages) {
      observer.stageStarted(stage);
      const units: UnitResult[] = [];
      for (const unit of stage.units) {
        observer.unitStarted(unit, 1);
        const artifacts = await verifyUnitArtifacts(unit, {
          config,
          runId,
          shared,
          recordHistory: plan.effects.history,
          unitStartedAt: facts.now,
          onCheck: (pattern, check) => observer.checkFinished(unit, pattern, check),
          onWarning: (message) => observer.warning(message),
        });
        const result = judgeUnit(unit, artifacts);
        observer.unitFinished(unit, result);
        units.push(result);
      }
      const result: StageResult = { name: stage.name, level: stage.level, units };
      stages.push(result);
      observer.stageFinished(result);
    }
  } finally {
    await exec.close().catch(() => undefined);
  }
  const planned = plan.stages.reduce((n, stage) => n + stage.units.length, 0);
  const decision = decideAuditVerdict({ findings, stages, planned, maxFailureRatio: config.gate.maxFailureRatio });
  const report = assembleReport({
    runId,
    command: 'audit',
    configFile: config.file,
    started,
    finished: new Date(),
    decision,
    reason: decision.reason,
    warnings: [],
    notes,
    preflight: findings,
    stages,
  });
  await writeReportFiles(report, { json: outputs.jsonPath, junit: outputs.junitPath }, (message) => observer.warning(message));
  observer.runFinished(report);
  return report;
}

// runAudit: the read-only audit. Gathers facts, judges them, tells the renderers, returns a rearguard.report/v1.
import type { ResolvedArtifact, ResolvedConfig } from '../config/types.js';
import { combineObservers, type RunObserver } from '../engine/observer.js';
import { unitIdentity } from '../engine/unit-identity.js';
import type { Plan, PlannedUnit } from '../plan/types.js';
import { assembleReport, writeReportFiles } from '../report/assemble.js';
import type { ArtifactResult, CheckResult, RunReport, StageResult, UnitResult } from '../report/types.js';
import { makeRunId } from '../state/run-dir.js';
import { judgeArtifact } from './artifact-findings.js';
import { judgeConfig } from './config-findings.js';
import { gatherAuditFacts, type AuditFacts } from './gather.js';
import { judgeHeadroom, judgeHistoryHealth, judgeLastRuns, judgeTempFiles } from './state-findings.js';
import { decideAuditVerdict } from './verdict.js';

/** Every finding not tied to one artifact, in the order they are shown. */
export function judgeGlobal(config: ResolvedConfig, plan: Plan, facts: AuditFacts): CheckResult[] {
  return [
    judgeLastRuns(facts),
    ...judgeHeadroom(config, facts),
    ...judgeHistoryHealth(facts),
    ...judgeTempFiles(facts),
    ...judgeConfig(config, plan.excluded),
  ];
}

/** The configured artifact behind a planned one (systemd matches expand to units of other names). */
function findArtifact(config: ResolvedConfig, unit: PlannedUnit, pattern: string): ResolvedArtifact | undefined {
  const units = config.stages.filter((s) => s.name === unit.stage).flatMap((s) => s.units);
  const own = units.find((u) => u.name === unit.name) ?? units.find((u) => u.artifacts.some((a) => a.pattern === pattern));
  return own?.artifacts.find((a) => a.pattern === pattern);
}

/** One unit's audit result: its artifacts' findings; failed when one fails at level error. */
export function judgeUnit(config: ResolvedConfig, unit: PlannedUnit, facts: AuditFacts): UnitResult {
  const artifacts: ArtifactResult[] = unit.artifacts.map((planned) => {
    const artifactFacts = facts.artifacts.find((a) => a.unit === unit.name && a.pattern === planned.pattern)!;
    const checks = judgeArtifact(findArtifact(config, unit, planned.pattern), artifactFacts, facts.now);
    const newest = artifactFacts.newest;
    return {
      pattern: planned.pattern,
      ...(newest && { path: newest.file, bytes: newest.bytes, mtime: new Date(newest.mtimeMs).toISOString() }),
      status: checks.some((c) => c.status === 'failed') ? 'failed' : checks.some((c) => c.status === 'warning') ? 'warning' : 'ok',
      checks,
    };
  });
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
  return {
    ...unitIdentity(unit),
    status,
    message,
    exit_code: null,
    attempts: 0,
    duration_ms: 0,
    artifacts,
  };
}

/** Where the audit report goes: only files named on the command line (never report.json of the config). */
export interface AuditOutputs {
  observers: RunObserver[];
  jsonPath?: string;
  junitPath?: string;
}

/** Runs the audit. It runs no unit or command and writes nothing but the reports named in `outputs`. */
export async function runAudit(config: ResolvedConfig, plan: Plan, outputs: AuditOutputs): Promise<RunReport> {
  const { observers } = outputs;
  const observer = combineObservers(observers);
  const started = new Date();
  const runId = makeRunId(started);
  const facts = await gatherAuditFacts(config, plan, started.getTime());
  const findings = judgeGlobal(config, plan, facts);
  const notes: string[] = ['audit is read-only: it ran no unit or command and wrote nothing but the reports asked for with --json/--junit'];
  if (facts.lockHolder) notes.push(`a run is in progress (${facts.lockHolder}): artifacts may be half written`);

  observer.runStarted(plan, { runId, runDir: 'none (audit is read-only)' });
  for (const note of notes.slice(1)) observer.warning(note);
  for (const finding of findings) observer.preflightFinished(finding);
  const stages: StageResult[] = [];
  for (const stage of plan.stages) {
    observer.stageStarted(stage);
    const units = stage.units.map((unit) => {
      observer.unitStarted(unit, 1);
      const result = judgeUnit(config, unit, facts);
      for (const artifact of result.artifacts) for (const check of artifact.checks) observer.checkFinished(unit, artifact.pattern, check);
      observer.unitFinished(unit, result);
      return result;
    });
    const result: StageResult = { name: stage.name, level: stage.level, units };
    stages.push(result);
    observer.stageFinished(result);
  }
  const planned = plan.stages.reduce((n, stage) => n + stage.units.length, 0);
  const decision = decideAuditVerdict({ findings, stages, planned, maxFailureRatio: config.gate.maxFailureRatio });
  const report = assembleReport({
    runId,
    command: 'audit',
    configFile: config.file,
    started,
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

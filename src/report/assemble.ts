// Builds a rearguard.report/v1 from a gate decision and writes the report files a run asked for.
import type { ContainmentInfo } from '../exec/index.js';
import os from 'node:os';
import type { CommandName } from '../config/types.js';
import type { GateDecision } from '../engine/verdict.js';
import { writeJsonReport } from './json.js';
import type { CheckResult, RunReport, StageResult } from './types.js';

/** What a report is made of; texts are already redacted. */
export interface ReportParts {
  runId: string;
  command: CommandName;
  configFile: string;
  started: Date;
  finished: Date;
  decision: GateDecision;
  reason: string;
  warnings: string[];
  notes: string[];
  preflight: CheckResult[];
  stages: StageResult[];
  /** How unit processes were contained (runs that start processes). */
  containment?: ContainmentInfo;
}

/** The JSON report of a finished run (pure). */
export function assembleReport(parts: ReportParts): RunReport {
  const finished = parts.finished;
  return {
    schema: 'rearguard.report/v1',
    run_id: parts.runId,
    command: parts.command,
    config: parts.configFile,
    host: os.hostname(),
    started_at: parts.started.toISOString(),
    finished_at: finished.toISOString(),
    duration_ms: finished.getTime() - parts.started.getTime(),
    exit_code: parts.decision.exitCode,
    verdict: parts.decision.verdict,
    reason: parts.reason,
    warnings: parts.warnings,
    notes: parts.notes,
    preflight: parts.preflight,
    ...(parts.containment && {
      containment: { mechanism: parts.containment.mechanism, parent_death_signal: parts.containment.parentDeathSignal, summary: parts.containment.summary },
    }),
    stages: parts.stages,
    counts: parts.decision.counts,
    failure_ratio: Number(parts.decision.failureRatio.toFixed(4)),
  };
}

/** Writes the JSON report and JUnit XML where asked; a write that fails is reported, never thrown. */
export async function writeReportFiles(
  report: RunReport,
  files: { json?: string | undefined; junit?: string | undefined },
  onError: (message: string) => void,
): Promise<void> {
  // The JUnit builder loads only when a run asks for JUnit: it is the heaviest module of a start.
  const writeJunit = async (file: string, r: RunReport): Promise<void> => (await import('./junit.js')).writeJunit(file, r);
  for (const [file, write] of [
    [files.json, writeJsonReport],
    [files.junit, writeJunit],
  ] as const) {
    if (!file) continue;
    await write(file, report).catch((error: Error) => onError(`could not write ${file}: ${error.message}`));
  }
}

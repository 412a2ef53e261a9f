// The report of a run from its results (pure): the gate's verdict, then the rearguard.report/v1 document.
import type { ContainmentInfo } from '../exec/index.js';
import type { CommandName } from '../config/types.js';
import { assembleReport } from '../report/assemble.js';
import type { CheckResult, RunReport, StageResult } from '../report/types.js';
import type { Redactor } from '../util/secrets.js';
import { decideVerdict } from './verdict.js';

/** Everything a run produced that its report is made of. */
export interface RunResults {
  runId: string;
  command: CommandName;
  configFile: string;
  started: Date;
  preflight: CheckResult[];
  stages: StageResult[];
  /** Units planned (after --only/--skip). */
  planned: number;
  maxFailureRatio: number;
  notes: string[];
  /** Problems around the backups (a corrupt history set aside): they make the run at least partial. */
  warnings: string[];
  abortedBy?: string;
  internalError?: string;
  /** How unit processes were contained in this run. */
  containment?: ContainmentInfo;
}

/** Decides the verdict and builds the report; `extraWarnings` are problems delivering it (metrics, webhooks). */
export function buildRunReport(results: RunResults, extraWarnings: string[], finished: Date, redactor: Redactor): RunReport {
  const warnings = [...results.warnings, ...extraWarnings];
  const decision = decideVerdict({
    preflight: results.preflight,
    stages: results.stages,
    maxFailureRatio: results.maxFailureRatio,
    planned: results.planned,
    warnings,
    ...(results.abortedBy !== undefined && { abortedBy: results.abortedBy }),
    ...(results.internalError !== undefined && { internalError: results.internalError.split('\n')[0] ?? results.internalError }),
  });
  return assembleReport({
    runId: results.runId,
    command: results.command,
    configFile: results.configFile,
    started: results.started,
    finished,
    decision,
    reason: redactor.redact(decision.reason),
    warnings: warnings.map((w) => redactor.redact(w)),
    notes: results.notes,
    preflight: results.preflight,
    stages: results.stages,
    ...(results.containment && { containment: results.containment }),
  });
}

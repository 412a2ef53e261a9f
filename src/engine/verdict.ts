// decideVerdict: the deploy gate as a pure function of results (README: "The deploy-gate exit code").
import type { Verdict } from '../config/types.js';
import type { CheckResult, Counts, StageResult, UnitResult } from '../report/types.js';

/** Everything the gate looks at. */
export interface GateInput {
  preflight: CheckResult[];
  stages: StageResult[];
  maxFailureRatio: number;
  /** Units planned (after --only/--skip). */
  planned: number;
  /** Set when a signal aborted the run: "SIGTERM". */
  abortedBy?: string;
  /** Set when rearguard itself failed. */
  internalError?: string;
  /** Problems around the backups (metrics push, notify): they make the run at least partial. */
  warnings: string[];
}

/** The gate's answer. */
export interface GateDecision {
  verdict: Verdict;
  exitCode: 0 | 1 | 2;
  reason: string;
  counts: Counts;
  failureRatio: number;
}

/** The exit code of each verdict: 0 go, 1 go with warnings, 2 do not deploy. */
export const EXIT_CODES: Readonly<Record<Verdict, 0 | 1 | 2>> = { ok: 0, partial: 1, critical: 2 };

function isUnitFailure(unit: UnitResult): boolean {
  return unit.status === 'failed' || unit.status === 'timeout';
}

/** Tallies units and checks. */
export function countResults(stages: StageResult[], planned: number): Counts {
  const units = stages.flatMap((stage) => stage.units);
  const checks = units.flatMap((unit) => unit.artifacts.flatMap((artifact) => artifact.checks));
  const by = (status: UnitResult['status']): number => units.filter((unit) => unit.status === status).length;
  return {
    planned,
    attempted: units.filter((unit) => unit.status !== 'skipped').length,
    ok: by('ok'),
    warning: by('warning'),
    failed: by('failed'),
    timeout: by('timeout'),
    skipped: by('skipped'),
    checks_failed: checks.filter((check) => check.status === 'failed').length,
    checks_warning: checks.filter((check) => check.status === 'warning').length,
  };
}

function names(units: UnitResult[]): string {
  const shown = units.slice(0, 5).map((unit) => unit.name).join(', ');
  return units.length > 5 ? `${shown} and ${units.length - 5} more` : shown;
}

/** Decides ok / partial / critical and says why, in one line. */
export function decideVerdict(input: GateInput): GateDecision {
  const counts = countResults(input.stages, input.planned);
  const units = input.stages.flatMap((stage) => stage.units);
  const errorFailures = units.filter((unit) => isUnitFailure(unit) && unit.level === 'error');
  const failureRatio = counts.attempted === 0 ? 0 : errorFailures.length / counts.attempted;
  const decide = (verdict: Verdict, reason: string): GateDecision => ({
    verdict,
    exitCode: EXIT_CODES[verdict],
    reason,
    counts,
    failureRatio,
  });

  if (input.internalError) return decide('critical', `internal error: ${input.internalError}`);
  if (input.abortedBy) return decide('critical', `aborted by ${input.abortedBy}`);
  const preflightErrors = input.preflight.filter((check) => check.status === 'failed');
  if (preflightErrors.length > 0) {
    return decide('critical', `pre-flight failed: ${preflightErrors.map((check) => check.message).join('; ')}; no unit was started`);
  }
  const criticalFailures = errorFailures.filter((unit) => unit.critical);
  if (criticalFailures.length > 0) {
    return decide('critical', `critical unit failed: ${names(criticalFailures)}`);
  }
  if (errorFailures.length > 0 && failureRatio >= input.maxFailureRatio) {
    return decide(
      'critical',
      `${errorFailures.length} of ${counts.attempted} units failed (${names(errorFailures)}): failure ratio ${failureRatio.toFixed(2)} ≥ ${input.maxFailureRatio}`,
    );
  }
  if (errorFailures.length > 0) {
    return decide(
      'partial',
      `${errorFailures.length} of ${counts.attempted} units failed (${names(errorFailures)}), none critical; failure ratio ${failureRatio.toFixed(2)} < ${input.maxFailureRatio}`,
    );
  }
  const warnings: string[] = [];
  const warnUnits = units.filter((unit) => isUnitFailure(unit) || unit.status === 'warning');
  if (warnUnits.length > 0) warnings.push(`${warnUnits.length} warning-level failure(s) (${names(warnUnits)})`);
  const preflightWarnings = input.preflight.filter((check) => check.status === 'warning');
  if (preflightWarnings.length > 0) warnings.push(`pre-flight warning: ${preflightWarnings.map((check) => check.message).join('; ')}`);
  warnings.push(...input.warnings);
  if (warnings.length > 0) return decide('partial', warnings.join('; '));
  if (counts.attempted === 0) return decide('partial', `no unit ran: all ${counts.skipped} were skipped`);
  const checksRun = units.reduce((sum, unit) => sum + unit.artifacts.reduce((n, a) => n + a.checks.filter((c) => c.status === 'ok').length, 0), 0);
  return decide('ok', `all ${counts.attempted} unit(s) and ${checksRun} check(s) passed`);
}

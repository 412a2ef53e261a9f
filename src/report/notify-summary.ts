// The JSON summary a webhook receives: the verdict and what failed, small enough for any chat or pager hook.
import type { RunReport, UnitStatus } from './types.js';

/** One unit that did not pass, as the summary lists it. */
export interface SummaryProblem {
  stage: string;
  unit: string;
  status: UnitStatus;
  message: string;
}

/** The body POSTed to a webhook: schema rearguard.summary/v1. `text` is a ready-made line for Slack/Mattermost-style hooks. */
export interface RunSummary {
  schema: 'rearguard.summary/v1';
  text: string;
  run_id: string;
  command: RunReport['command'];
  host: string;
  config: string;
  verdict: RunReport['verdict'];
  exit_code: RunReport['exit_code'];
  reason: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  counts: RunReport['counts'];
  failure_ratio: number;
  warnings: string[];
  preflight_failed: Array<{ id: string; target: string; status: string; message: string }>;
  units_failed: SummaryProblem[];
}

const SHOWN = 20;

/** Builds the webhook summary from the (already redacted) report. */
export function buildRunSummary(report: RunReport): RunSummary {
  const units = report.stages.flatMap((stage) => stage.units);
  const problems = units.filter((unit) => unit.status === 'failed' || unit.status === 'timeout' || unit.status === 'warning');
  return {
    schema: 'rearguard.summary/v1',
    text: `rearguard ${report.command} on ${report.host}: ${report.verdict} (exit ${report.exit_code}): ${report.reason}`,
    run_id: report.run_id,
    command: report.command,
    host: report.host,
    config: report.config,
    verdict: report.verdict,
    exit_code: report.exit_code,
    reason: report.reason,
    started_at: report.started_at,
    finished_at: report.finished_at,
    duration_ms: report.duration_ms,
    counts: report.counts,
    failure_ratio: report.failure_ratio,
    warnings: report.warnings,
    preflight_failed: report.preflight
      .filter((check) => check.status === 'failed' || check.status === 'warning')
      .map((check) => ({ id: check.id, target: check.target, status: check.status, message: check.message })),
    units_failed: problems.slice(0, SHOWN).map((unit) => ({ stage: unit.stage, unit: unit.name, status: unit.status, message: unit.message })),
  };
}

// The metric set of a run (docs/metrics.md) as plain samples: what every metrics output renders.
import type { CheckResult, RunReport, UnitStatus } from './types.js';

/** One metric family rearguard emits: name, help text and its fixed label names. */
export interface MetricFamily {
  name: string;
  help: string;
  labelNames: readonly string[];
}

/** One sample of a family. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The label every family carries (also part of the Pushgateway grouping key). */
export const COMMAND_LABEL = 'command';
/** The family only a successful run sends. */
export const LAST_SUCCESS = 'rearguard_run_last_success_timestamp_seconds';
/** The pseudo unit name under which pre-flight checks appear in rearguard_check_failed. */
export const PREFLIGHT_UNIT = 'pre-flight';

/** Every family rearguard emits, in output order. Help texts must stay stable: the Pushgateway refuses changes across groups. */
export const METRIC_FAMILIES: readonly MetricFamily[] = [
  { name: 'rearguard_run_status', help: 'Verdict of the last run: 0 ok, 1 partial, 2 critical (the exit code).', labelNames: ['command'] },
  { name: 'rearguard_run_timestamp_seconds', help: 'Unix time the last run finished, whatever its verdict.', labelNames: ['command'] },
  { name: LAST_SUCCESS, help: 'Unix time the last run with verdict ok finished; never sent by a failed run.', labelNames: ['command'] },
  { name: 'rearguard_run_duration_seconds', help: 'Wall-clock duration of the last run.', labelNames: ['command'] },
  {
    name: 'rearguard_unit_status',
    help: 'Status of each unit in the last run: 0 ok, 1 warning, 2 failed, 3 timeout, -1 skipped.',
    labelNames: ['command', 'stage', 'unit'],
  },
  { name: 'rearguard_unit_duration_seconds', help: 'Duration of each unit (all attempts) in the last run.', labelNames: ['command', 'unit'] },
  {
    name: 'rearguard_artifact_bytes',
    help: 'Size of the newest file matching each artifact pattern, as verified by the last run.',
    labelNames: ['command', 'unit', 'artifact'],
  },
  {
    name: 'rearguard_check_failed',
    help: 'Whether a check did not pass in the last run: 1 failed (at either level), 0 passed. Pre-flight checks use unit="pre-flight".',
    labelNames: ['command', 'unit', 'check'],
  },
];

/** Numeric encoding of a unit status: at least 2 means the unit did not do its job. */
export const UNIT_STATUS_VALUE: Record<UnitStatus, number> = { ok: 0, warning: 1, failed: 2, timeout: 3, skipped: -1 };

/** What to emit besides the report itself. */
export interface SampleOptions {
  /** The status to emit at least (a failed delivery elsewhere makes an ok run partial). */
  minStatus?: 0 | 1 | 2;
}

function seconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

function checkFailed(check: CheckResult): number | undefined {
  if (check.status === 'skipped') return undefined;
  return check.status === 'ok' ? 0 : 1;
}

/** Turns a run report into the samples of docs/metrics.md, every one labelled with the command. */
export function collectMetricSamples(report: RunReport, options: SampleOptions = {}): MetricSample[] {
  const command = report.command;
  const status = Math.max(report.exit_code, options.minStatus ?? 0);
  const run = (name: string, value: number): MetricSample => ({ name, labels: { command }, value });
  const samples: MetricSample[] = [
    run('rearguard_run_status', status),
    run('rearguard_run_timestamp_seconds', seconds(report.finished_at)),
    run('rearguard_run_duration_seconds', report.duration_ms / 1000),
  ];
  if (status === 0) samples.push(run(LAST_SUCCESS, seconds(report.finished_at)));

  // Several artifacts of a unit may run the same check: the worst result wins.
  const failed = new Map<string, MetricSample>();
  const addCheck = (unit: string, check: CheckResult): void => {
    const value = checkFailed(check);
    if (value === undefined) return;
    const key = `${unit}\u0000${check.id}`;
    const previous = failed.get(key);
    if (!previous || previous.value < value) failed.set(key, { name: 'rearguard_check_failed', labels: { command, unit, check: check.id }, value });
  };
  for (const check of report.preflight) addCheck(PREFLIGHT_UNIT, check);

  for (const stage of report.stages) {
    for (const unit of stage.units) {
      samples.push({ name: 'rearguard_unit_status', labels: { command, stage: stage.name, unit: unit.name }, value: UNIT_STATUS_VALUE[unit.status] });
      samples.push({ name: 'rearguard_unit_duration_seconds', labels: { command, unit: unit.name }, value: unit.duration_ms / 1000 });
      for (const artifact of unit.artifacts) {
        if (artifact.bytes !== undefined) {
          samples.push({ name: 'rearguard_artifact_bytes', labels: { command, unit: unit.name, artifact: artifact.pattern }, value: artifact.bytes });
        }
        for (const check of artifact.checks) addCheck(unit.name, check);
      }
    }
  }
  samples.push(...failed.values());
  return samples;
}

import { describe, expect, it } from 'vitest';
import { parseExposition, renderExposition } from '../../../src/report/metrics-exposition.js';
import { collectMetricSamples, METRIC_FAMILIES, type MetricSample } from '../../../src/report/metrics-samples.js';
import { mergeSamples } from '../../../src/report/metrics-textfile.js';
import type { CheckResult, RunReport, UnitResult } from '../../../src/report/types.js';

function check(id: string, status: CheckResult['status']): CheckResult {
  return { id, target: 't', status, level: 'error', message: `${id} ${status}`, duration_ms: 1 };
}

function unit(name: string, status: UnitResult['status'], checks: CheckResult[] = []): UnitResult {
  return {
    name,
    stage: 'app',
    kind: 'run',
    level: 'error',
    critical: false,
    status,
    message: status,
    exit_code: 0,
    attempts: 1,
    duration_ms: 2500,
    artifacts: checks.length ? [{ pattern: `/b/${name}-*.tar.gz`, path: `/b/${name}-1.tar.gz`, bytes: 1234, status: 'ok', checks }] : [],
  };
}

function makeReport(exit: 0 | 1 | 2, units: UnitResult[], preflight: CheckResult[] = []): RunReport {
  const verdict = (['ok', 'partial', 'critical'] as const)[exit];
  return {
    schema: 'rearguard.report/v1',
    run_id: 'r1',
    command: 'verify',
    config: '/c.yml',
    host: 'h',
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-01T00:01:30.500Z',
    duration_ms: 90_500,
    exit_code: exit,
    verdict,
    reason: 'x',
    warnings: [],
    notes: [],
    preflight,
    stages: [{ name: 'app', level: 'error', units }],
    counts: { planned: 1, attempted: 1, ok: 1, warning: 0, failed: 0, timeout: 0, skipped: 0, checks_failed: 0, checks_warning: 0 },
    failure_ratio: 0,
  };
}

const find = (samples: MetricSample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('collectMetricSamples', () => {
  it('emits the run set labelled with the command, and last_success only for an ok run', () => {
    const ok = collectMetricSamples(makeReport(0, [unit('a', 'ok', [check('exists', 'ok')])]));
    expect(find(ok, 'rearguard_run_status')).toEqual([{ name: 'rearguard_run_status', labels: { command: 'verify' }, value: 0 }]);
    expect(find(ok, 'rearguard_run_timestamp_seconds')[0]?.value).toBe(Date.parse('2026-01-01T00:01:30.500Z') / 1000);
    expect(find(ok, 'rearguard_run_last_success_timestamp_seconds')[0]?.value).toBe(1767225690.5);
    expect(find(ok, 'rearguard_run_duration_seconds')[0]?.value).toBe(90.5);
    for (const sample of ok) expect(sample.labels.command).toBe('verify');

    const failed = collectMetricSamples(makeReport(2, [unit('a', 'failed')]));
    expect(find(failed, 'rearguard_run_status')[0]?.value).toBe(2);
    expect(find(failed, 'rearguard_run_last_success_timestamp_seconds')).toEqual([]);
  });

  it('raises the status to minStatus and then drops last_success', () => {
    const samples = collectMetricSamples(makeReport(0, [unit('a', 'ok')]), { minStatus: 1 });
    expect(find(samples, 'rearguard_run_status')[0]?.value).toBe(1);
    expect(find(samples, 'rearguard_run_last_success_timestamp_seconds')).toEqual([]);
  });

  it('encodes unit status 0 ok, 1 warning, 2 failed, 3 timeout, -1 skipped', () => {
    const statuses = ['ok', 'warning', 'failed', 'timeout', 'skipped'] as const;
    const samples = collectMetricSamples(makeReport(2, statuses.map((s) => unit(`u-${s}`, s))));
    const values = statuses.map((s) => find(samples, 'rearguard_unit_status', { unit: `u-${s}`, stage: 'app' })[0]?.value);
    expect(values).toEqual([0, 1, 2, 3, -1]);
    expect(find(samples, 'rearguard_unit_duration_seconds', { unit: 'u-ok' })[0]?.value).toBe(2.5);
  });

  it('reports artifact bytes by pattern and each check as 0/1, worst result per unit and check, skipped checks left out', () => {
    const u = unit('db', 'failed', [check('exists', 'ok'), check('checksum', 'failed'), check('sqlite', 'skipped')]);
    u.artifacts.push({ pattern: '/b/other', bytes: 7, status: 'ok', checks: [check('checksum', 'ok'), check('size', 'warning')] });
    const samples = collectMetricSamples(makeReport(1, [u], [check('disk', 'failed')]));
    expect(find(samples, 'rearguard_artifact_bytes', { unit: 'db', artifact: '/b/db-*.tar.gz' })[0]?.value).toBe(1234);
    expect(find(samples, 'rearguard_artifact_bytes', { unit: 'db', artifact: '/b/other' })[0]?.value).toBe(7);
    expect(find(samples, 'rearguard_check_failed', { unit: 'db', check: 'checksum' }).map((s) => s.value)).toEqual([1]);
    expect(find(samples, 'rearguard_check_failed', { unit: 'db', check: 'exists' })[0]?.value).toBe(0);
    expect(find(samples, 'rearguard_check_failed', { unit: 'db', check: 'size' })[0]?.value).toBe(1);
    expect(find(samples, 'rearguard_check_failed', { unit: 'db', check: 'sqlite' })).toEqual([]);
    expect(find(samples, 'rearguard_check_failed', { unit: 'pre-flight', check: 'disk' })[0]?.value).toBe(1);
  });
});

describe('renderExposition / parseExposition', () => {
  it('renders with prom-client (HELP and TYPE gauge per family) and reads its own output back', async () => {
    const samples = collectMetricSamples(makeReport(0, [unit('a "quoted" \\ name', 'ok', [check('exists', 'ok')])]));
    const text = await renderExposition(samples);
    for (const family of METRIC_FAMILIES) {
      expect(text).toContain(`# TYPE ${family.name} gauge`);
      expect(text).toContain(`# HELP ${family.name} `);
    }
    const back = parseExposition(text);
    expect(back).toHaveLength(samples.length);
    expect(find(back, 'rearguard_unit_status')[0]?.labels.unit).toBe('a "quoted" \\ name');
    expect(find(back, 'rearguard_run_last_success_timestamp_seconds')[0]?.value).toBe(1767225690.5);
  });

  it('leaves out families without samples and samples with unknown families or labels', async () => {
    const text = await renderExposition([
      { name: 'rearguard_run_status', labels: { command: 'verify' }, value: 2 },
      { name: 'other_metric', labels: { command: 'verify' }, value: 1 },
      { name: 'rearguard_run_duration_seconds', labels: { command: 'verify', extra: 'x' }, value: 1 },
    ]);
    expect(text).toContain('rearguard_run_status{command="verify"} 2');
    expect(text).not.toContain('other_metric');
    expect(text).not.toContain('rearguard_run_duration_seconds');
    expect(text).not.toContain('rearguard_artifact_bytes');
  });
});

describe('mergeSamples', () => {
  it('keeps other commands and families this run did not emit (last_success survives a failed run)', () => {
    const previous: MetricSample[] = [
      { name: 'rearguard_run_status', labels: { command: 'verify' }, value: 0 },
      { name: 'rearguard_run_last_success_timestamp_seconds', labels: { command: 'verify' }, value: 100 },
      { name: 'rearguard_unit_status', labels: { command: 'verify', stage: 's', unit: 'gone' }, value: 0 },
      { name: 'rearguard_run_status', labels: { command: 'orchestrate' }, value: 1 },
    ];
    const current: MetricSample[] = [
      { name: 'rearguard_run_status', labels: { command: 'verify' }, value: 2 },
      { name: 'rearguard_unit_status', labels: { command: 'verify', stage: 's', unit: 'new' }, value: 2 },
    ];
    const merged = mergeSamples(previous, current, 'verify');
    expect(find(merged, 'rearguard_run_status', { command: 'verify' }).map((s) => s.value)).toEqual([2]);
    expect(find(merged, 'rearguard_run_last_success_timestamp_seconds', { command: 'verify' })[0]?.value).toBe(100);
    expect(find(merged, 'rearguard_unit_status').map((s) => s.labels.unit)).toEqual(['new']);
    expect(find(merged, 'rearguard_run_status', { command: 'orchestrate' })[0]?.value).toBe(1);
  });
});

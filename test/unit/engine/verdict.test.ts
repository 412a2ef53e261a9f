import { describe, expect, it } from 'vitest';
import { decideVerdict, type GateInput } from '../../../src/engine/verdict.js';
import type { CheckResult, UnitResult } from '../../../src/report/types.js';

type UnitSpec = Partial<UnitResult> & { name: string; status: UnitResult['status'] };

function unit(spec: UnitSpec): UnitResult {
  return {
    stage: 's',
    kind: 'run',
    level: 'error',
    critical: false,
    message: spec.status,
    exit_code: spec.status === 'ok' ? 0 : 1,
    attempts: 1,
    duration_ms: 1,
    artifacts: [],
    ...spec,
  };
}

function preflight(status: CheckResult['status'], level: CheckResult['level'] = 'error'): CheckResult {
  return { id: 'disk', target: '/x', status, level, message: `disk ${status}`, duration_ms: 1 };
}

function gate(units: UnitSpec[], extra: Partial<GateInput> = {}): ReturnType<typeof decideVerdict> {
  return decideVerdict({
    preflight: [],
    stages: [{ name: 's', level: 'error', units: units.map(unit) }],
    maxFailureRatio: 0.5,
    planned: units.length,
    warnings: [],
    ...extra,
  });
}

describe('decideVerdict (DESIGN section 2)', () => {
  const cases: Array<{ name: string; units: UnitSpec[]; extra?: Partial<GateInput>; verdict: string; exit: number; reason: RegExp }> = [
    { name: 'everything passed', units: [{ name: 'a', status: 'ok' }, { name: 'b', status: 'ok' }], verdict: 'ok', exit: 0, reason: /all 2 unit/ },
    {
      name: 'a warning-level check failed',
      units: [{ name: 'a', status: 'warning' }, { name: 'b', status: 'ok' }],
      verdict: 'partial', exit: 1, reason: /warning-level failure.*a/,
    },
    {
      name: 'a unit of a warning-level stage failed, even all of them',
      units: [{ name: 'a', status: 'failed', level: 'warning' }, { name: 'b', status: 'timeout', level: 'warning' }],
      verdict: 'partial', exit: 1, reason: /warning-level/,
    },
    {
      name: 'one of four failed, none critical (ratio 0.25 < 0.5)',
      units: [{ name: 'a', status: 'failed' }, { name: 'b', status: 'ok' }, { name: 'c', status: 'ok' }, { name: 'd', status: 'ok' }],
      verdict: 'partial', exit: 1, reason: /1 of 4 units failed \(a\), none critical; failure ratio 0\.25 < 0\.5/,
    },
    {
      name: 'ratio exactly at the threshold is critical (≥)',
      units: [{ name: 'a', status: 'failed' }, { name: 'b', status: 'ok' }],
      verdict: 'critical', exit: 2, reason: /failure ratio 0\.50 ≥ 0\.5/,
    },
    {
      name: 'a timeout counts as a failure',
      units: [{ name: 'a', status: 'timeout' }, { name: 'b', status: 'ok' }, { name: 'c', status: 'ok' }],
      verdict: 'partial', exit: 1, reason: /1 of 3 units failed/,
    },
    {
      name: 'a critical unit failed, even at a low ratio',
      units: [{ name: 'db', status: 'failed', critical: true }, ...'bcdefghij'.split('').map((n) => ({ name: n, status: 'ok' as const }))],
      verdict: 'critical', exit: 2, reason: /critical unit failed: db/,
    },
    {
      name: 'skipped units do not count as attempted',
      units: [{ name: 'a', status: 'failed' }, { name: 'b', status: 'ok' }, { name: 'c', status: 'skipped' }, { name: 'd', status: 'skipped' }],
      verdict: 'critical', exit: 2, reason: /1 of 2 units failed/,
    },
    {
      name: 'a custom max_failure_ratio is honoured',
      units: [{ name: 'a', status: 'failed' }, { name: 'b', status: 'ok' }],
      extra: { maxFailureRatio: 0.6 },
      verdict: 'partial', exit: 1, reason: /0\.50 < 0\.6/,
    },
    {
      name: 'an error-level pre-flight failure',
      units: [{ name: 'a', status: 'skipped' }],
      extra: { preflight: [preflight('failed')] },
      verdict: 'critical', exit: 2, reason: /pre-flight failed: disk failed; no unit was started/,
    },
    {
      name: 'a warning-level pre-flight failure',
      units: [{ name: 'a', status: 'ok' }],
      extra: { preflight: [preflight('warning', 'warning')] },
      verdict: 'partial', exit: 1, reason: /pre-flight warning/,
    },
    {
      name: 'aborted by a signal',
      units: [{ name: 'a', status: 'ok' }],
      extra: { abortedBy: 'SIGTERM' },
      verdict: 'critical', exit: 2, reason: /^aborted by SIGTERM$/,
    },
    {
      name: 'an internal error',
      units: [{ name: 'a', status: 'ok' }],
      extra: { internalError: 'boom' },
      verdict: 'critical', exit: 2, reason: /internal error: boom/,
    },
    {
      name: 'a failed metrics push downgrades ok to partial',
      units: [{ name: 'a', status: 'ok' }],
      extra: { warnings: ['metrics push to http://127.0.0.1:9/ failed'] },
      verdict: 'partial', exit: 1, reason: /metrics push/,
    },
    {
      name: 'nothing ran because every unit was skipped',
      units: [{ name: 'a', status: 'skipped' }],
      verdict: 'partial', exit: 1, reason: /no unit ran/,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const decision = gate(c.units, c.extra);
      expect(decision.verdict).toBe(c.verdict);
      expect(decision.exitCode).toBe(c.exit);
      expect(decision.reason).toMatch(c.reason);
    });
  }

  it('counts units and computes the failure ratio over attempted units', () => {
    const decision = gate([
      { name: 'a', status: 'failed' },
      { name: 'b', status: 'ok' },
      { name: 'c', status: 'skipped' },
      { name: 'd', status: 'warning' },
    ]);
    expect(decision.counts).toMatchObject({ planned: 4, attempted: 3, ok: 1, failed: 1, skipped: 1, warning: 1 });
    expect(decision.failureRatio).toBeCloseTo(1 / 3);
  });
});

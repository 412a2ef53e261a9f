// The compact renderer on a modelled terminal: failures stay above the frame, the frame never outgrows the
// screen, and the summary replaces it at the end. Which view a plan gets: the tree while it fits.
import { Chalk } from 'chalk';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Plan, PlannedUnit } from '../../../src/plan/types.js';
import { chooseLiveView, estimateTreeHeight } from '../../../src/report/choose-live-view.js';
import { composeRedraw, createLiveScreen } from '../../../src/report/live-screen.js';
import { createCompactRenderer } from '../../../src/report/render-live.js';
import type { RunReport, UnitResult, UnitStatus } from '../../../src/report/types.js';
import { ScreenReplay } from '../../helpers/screen-replay.js';

const plain = new Chalk({ level: 0 });

function planOf(count: number, concurrency = 8, checks = 0): Plan {
  const units = Array.from(
    { length: count },
    (_v, i) => ({ name: `u${i}`, stage: 'main', timeoutMs: 60_000, artifacts: checks > 0 ? [{ pattern: 'x', checks: Array.from({ length: checks }, () => ({ id: 'exists' })) }] : [] }) as unknown as PlannedUnit,
  );
  return { command: 'orchestrate', runsUnits: true, preflight: [], stages: [{ name: 'main', level: 'error', concurrency, units }] } as unknown as Plan;
}

function result(u: PlannedUnit, status: UnitStatus, message: string = status, extra: Partial<UnitResult> = {}): UnitResult {
  return { name: u.name, stage: u.stage, kind: 'command', level: 'error', critical: false, status, message, exit_code: 0, attempts: 1, duration_ms: 500, artifacts: [], ...extra };
}

function reportOf(results: UnitResult[]): RunReport {
  return { verdict: 'partial', exit_code: 1, reason: '1 of 30 units failed (u3)', stages: [{ name: 'main', level: 'error', units: results }] } as unknown as RunReport;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('createCompactRenderer', () => {
  it('prints a failure above the frame when it happens, keeps it there, and leaves the summary in place of the frame', () => {
    vi.useFakeTimers();
    const term = new ScreenReplay(12, 60);
    const errors: string[] = [];
    const stdout: string[] = [];
    const plan = planOf(30, 4);
    const units = plan.stages[0]!.units;
    let clock = 0;
    const renderer = createCompactRenderer(
      { out: (line) => stdout.push(line), err: (line) => errors.push(line) },
      createLiveScreen({ write: (text) => term.write(text.replaceAll('\n', '\r\n')), size: () => ({ rows: term.rows, columns: term.columns }) }),
      plain,
      plan,
      { verbose: false, now: () => clock },
    );
    renderer.stageStarted!(plan.stages[0]!);
    const results: UnitResult[] = [];
    for (const [i, u] of units.entries()) {
      clock += 250;
      renderer.unitStarted!(u, 1);
      if (i >= 3) {
        const done = units[i - 3]!;
        const r = i - 3 === 3 ? result(done, 'failed', 'exited with 3', { log_tail: ['disk full'] }) : result(done, 'ok');
        results.push(r);
        renderer.unitFinished!(done, r);
      }
      if (i === 10) renderer.warning!('metrics push failed');
      vi.advanceTimersByTime(100);
      const frameHeight = term.aboveCursor(11).findIndex((l) => /^\d+\/30 done · \d running · \d+ queued/.test(l));
      expect(frameHeight, `frame header on screen after unit ${i}`).toBeGreaterThanOrEqual(0);
      expect(term.wraps).toBe(0);
      if (i >= 7) expect(term.screen().join('\n')).toContain('✖ main/u3 failed in 500ms: exited with 3\n    | disk full');
    }
    expect(term.screen().join('\n')).toMatch(/ {2}\S u27 +[\d.]+s \/ timeout 1m00s\n {2}\S u28 /);
    expect(errors).toEqual(['warning: metrics push failed']);
    const report = reportOf(results);
    renderer.runFinished!(report);
    void renderer.done();
    term.write(stdout.map((line) => `${line}\r\n`).join(''));
    const all = term.all();
    expect(all.filter((l) => l.startsWith('✖ main/u3 failed'))).toHaveLength(1);
    expect(all.some((l) => /\/30 done|running|queued/.test(l))).toBe(false);
    expect(all.at(-2)).toBe('verdict: partial (exit 1): 1 of 30 units failed (u3)');
  });
});

describe('composeRedraw', () => {
  it('moves up over the last frame, erases it, then writes the lines that stay and the new frame', () => {
    expect(composeRedraw(0, ['kept'], ['a', 'b'])).toBe('kept\na\nb\n');
    expect(composeRedraw(2, [], ['c'])).toBe('\r\u001b[2A\u001b[Jc\n');
  });
});

describe('chooseLiveView', () => {
  it('keeps the tree while all of it fits above the cursor, and draws the compact frame beyond', () => {
    expect(estimateTreeHeight(planOf(3, 2, 2))).toBe(1 + 3 * (1 + 5 + 2));
    expect(chooseLiveView(planOf(3, 2, 2), 40)).toBe('tree');
    expect(chooseLiveView(planOf(60, 8), 40)).toBe('compact');
    expect(chooseLiveView(planOf(3, 2, 2), 26)).toBe('tree');
    expect(chooseLiveView(planOf(3, 2, 2), 25)).toBe('compact');
    expect(chooseLiveView(planOf(1), 0)).toBe('compact');
  });
});

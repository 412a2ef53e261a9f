// The compact live frame: header, running units with elapsed time and timeout, counts, and the fit to any terminal.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { Plan, PlannedUnit } from '../../../src/plan/types.js';
import { createLiveState, noteStageStarted, noteUnitFinished, noteUnitStarted, type LiveState } from '../../../src/report/live-state.js';
import { buildCompactFrame, fitText, formatUnitOutcome, printable } from '../../../src/report/render-compact.js';
import type { UnitResult, UnitStatus } from '../../../src/report/types.js';

const plain = new Chalk({ level: 0 });
const T0 = 1_000_000;

function unit(name: string, stage = 'dumps', timeoutMs = 300_000): PlannedUnit {
  return { name, stage, timeoutMs, artifacts: [] } as unknown as PlannedUnit;
}

function planOf(units: PlannedUnit[], command: Plan['command'] = 'orchestrate'): Plan {
  return {
    command,
    runsUnits: command === 'orchestrate',
    preflight: [],
    stages: [{ name: 'dumps', level: 'error', concurrency: 8, units }],
  } as unknown as Plan;
}

function result(u: PlannedUnit, status: UnitStatus, extra: Partial<UnitResult> = {}): UnitResult {
  return { name: u.name, stage: u.stage, kind: 'command', level: 'error', critical: false, status, message: status, exit_code: 0, attempts: 1, duration_ms: 1200, artifacts: [], ...extra };
}

/** 200 units: 34 ok, 1 warning, 2 failed, 8 running (started one second apart), the rest queued. */
function busyRun(): { state: LiveState; plan: Plan; units: PlannedUnit[] } {
  const units = Array.from({ length: 200 }, (_v, i) => unit(`db-${String(i).padStart(3, '0')}`));
  const plan = planOf(units);
  const state = createLiveState(plan, T0);
  noteStageStarted(state, plan, plan.stages[0]!);
  units.slice(0, 37).forEach((u, i) => {
    noteUnitStarted(state, u, 1, T0, true);
    noteUnitFinished(state, u, result(u, i === 0 ? 'warning' : i < 3 ? 'failed' : 'ok'));
  });
  units.slice(37, 45).forEach((u, i) => noteUnitStarted(state, u, 1, T0 + 60_000 + i * 1000, true));
  return { state, plan, units };
}

const NOW = T0 + 65_000;

describe('buildCompactFrame', () => {
  it('starts with a progress header: done, running, queued, failed and the elapsed time', () => {
    const { state } = busyRun();
    const frame = buildCompactFrame(state, { now: NOW, rows: 40, columns: 100, chalk: plain });
    expect(frame[0]).toBe('rearguard orchestrate  37/200 done · 8 running · 155 queued · 2 failed · 1m05s');
    expect(frame[1]).toBe('stage dumps (1 of 1), up to 8 at once');
  });

  it('lists the running units, oldest first, each with its elapsed time and timeout', () => {
    const { state } = busyRun();
    const frame = buildCompactFrame(state, { now: NOW, rows: 40, columns: 100, chalk: plain });
    const running = frame.filter((line) => /^ {2}\S db-\d{3}/.test(line));
    expect(running.map((line) => line.slice(4, 10))).toEqual(['db-037', 'db-038', 'db-039', 'db-040', 'db-041', 'db-042', 'db-043', 'db-044']);
    expect(running[0]).toMatch(/db-037 {2}5\.0s \/ timeout 5m00s$/);
    expect(running[7]).toMatch(/db-044 {2}0\.0s \/ timeout 5m00s$/);
  });

  it('collapses passed and queued units into one counts line, last', () => {
    const { state } = busyRun();
    const frame = buildCompactFrame(state, { now: NOW, rows: 40, columns: 100, chalk: plain });
    expect(frame).toHaveLength(1 + 1 + 8 + 1 + 1);
    expect(frame[frame.length - 1]).toBe('✔ 34 passed · ⚠ 1 warning · ✖ 2 failed · 155 queued');
    expect(frame.join('\n')).not.toMatch(/queued\)/);
  });

  it('never takes more than rows - 1 lines or a line wider than columns - 1, at any size', () => {
    const { state } = busyRun();
    for (const rows of [1, 2, 3, 4, 5, 8, 12, 24, 40]) {
      for (const columns of [10, 20, 40, 41, 60, 80, 100, 200]) {
        const frame = buildCompactFrame(state, { now: NOW, rows, columns, chalk: plain });
        expect(frame.length, `${rows}x${columns}`).toBeLessThanOrEqual(Math.max(1, rows - 1));
        for (const line of frame) expect([...line].length, `${rows}x${columns}: ${line}`).toBeLessThanOrEqual(columns - 1);
        expect(frame[0], `${rows}x${columns}`).toMatch(/^(rearguard orchestrate {2})?37\/|…$/);
      }
    }
  });

  it('keeps the header, the failures and the counts when the running units do not fit, and counts the rest', () => {
    const { state } = busyRun();
    const frame = buildCompactFrame(state, { now: NOW, rows: 8, columns: 100, chalk: plain });
    expect(frame).toHaveLength(7);
    expect(frame[0]).toContain('8 running');
    expect(frame.slice(2, 4).map((line) => line.slice(4, 10))).toEqual(['db-037', 'db-038']);
    expect(frame[4]).toBe('  … and 6 more running');
    expect(frame[5]).toBe('✖ failed: db-001, db-002');
    expect(frame[6]).toContain('155 queued');
    expect(buildCompactFrame(state, { now: NOW, rows: 4, columns: 100, chalk: plain })).toEqual([
      expect.stringContaining('37/200 done'),
      '✖ failed: db-001, db-002',
      '✔ 34 passed · ⚠ 1 warning · ✖ 2 failed · 155 queued',
    ]);
  });

  it('names the failed units, the newest first when they do not all fit', () => {
    const units = Array.from({ length: 30 }, (_v, i) => unit(`volume-${i}`));
    const state = createLiveState(planOf(units), T0);
    for (const u of units.slice(0, 12)) noteUnitFinished(state, u, result(u, u.name === 'volume-4' ? 'timeout' : 'failed'));
    const frame = buildCompactFrame(state, { now: T0, rows: 10, columns: 60, chalk: plain });
    expect(frame.at(-2)).toBe('✖ 12 failed, newest first: volume-11, volume-10, …');
    const wide = buildCompactFrame(state, { now: T0, rows: 10, columns: 200, chalk: plain });
    expect(wide.at(-2)).toBe(`✖ failed: ${units.slice(0, 12).map((u) => u.name).join(', ')}`);
  });

  it('cuts long unit names to the width, keeping the times readable', () => {
    const long = unit(`backup-of-the-${'very-'.repeat(30)}long-volume-name`);
    const plan = planOf([long]);
    const state = createLiveState(plan, T0);
    noteUnitStarted(state, long, 2, T0, true);
    const frame = buildCompactFrame(state, { now: T0 + 4_250, rows: 40, columns: 60, chalk: plain });
    const line = frame.find((l) => l.includes('backup-of-the'))!;
    expect([...line].length).toBe(59);
    expect(line).toMatch(/^ {2}\S backup-of-the-very-very-.*… {2}4\.2s \/ timeout 5m00s$/);
  });

  it('aligns the elapsed times of units with different timeouts', () => {
    const [a, b] = [unit('app-files'), unit('db', 'dumps', 10_000)];
    const state = createLiveState(planOf([a!, b!]), T0);
    noteUnitStarted(state, a!, 1, T0, true);
    noteUnitStarted(state, b!, 1, T0 + 11_900, true);
    expect(buildCompactFrame(state, { now: T0 + 12_300, rows: 10, columns: 80, chalk: plain }).slice(2, 4)).toEqual([
      '  ⠸ app-files  12.3s / timeout 5m00s',
      '  ⠸ db          0.4s / timeout 10.0s',
    ]);
  });

  it('shows the attempt of a retried unit, and the elapsed time alone when nothing times out (verify)', () => {
    const a = unit('a');
    const state = createLiveState(planOf([a], 'verify'), T0);
    noteUnitStarted(state, a, 1, T0, false);
    expect(buildCompactFrame(state, { now: T0 + 2_000, rows: 10, columns: 80, chalk: plain })).toContain('  ⠋ a  2.0s');
    const retried = createLiveState(planOf([a]), T0);
    noteUnitStarted(retried, a, 3, T0, true);
    expect(buildCompactFrame(retried, { now: T0 + 100, rows: 10, columns: 80, chalk: plain }).join('\n')).toContain('a (attempt 3)  0.1s / timeout 5m00s');
  });

  it('marks a unit near its timeout in yellow and failures in red when colour is on', () => {
    const colour = new Chalk({ level: 1 });
    const { state } = busyRun();
    const near = unit('slow', 'dumps', 10_000);
    noteUnitStarted(state, near, 1, T0, true);
    const frame = buildCompactFrame(state, { now: T0 + 9_000, rows: 40, columns: 100, chalk: colour });
    expect(frame.find((l) => l.includes('slow'))).toContain(colour.yellow('9.0s / timeout 10.0s'));
    expect(frame[0]).toContain(colour.red(' 2 failed'));
  });

  it('says how far pre-flight is before the first stage', () => {
    const plan = { ...planOf([unit('a')]), preflight: [{ id: 'disk' }, { id: 'command' }] } as unknown as Plan;
    const state = createLiveState(plan, T0);
    state.preflight.done = 1;
    expect(buildCompactFrame(state, { now: T0, rows: 10, columns: 80, chalk: plain })[1]).toBe('pre-flight: 1 of 2 check(s) done');
  });
});

describe('formatUnitOutcome', () => {
  it('names the unit, its status, time and reason, its failed checks and the end of its log, uncut', () => {
    const u = unit(`nightly-${'x'.repeat(150)}`);
    const lines = formatUnitOutcome(
      result(u, 'failed', { message: 'exited with 3', log_tail: ['one', 'two', 'three', 'four', 'five', 'six'] }),
      [{ id: 'size', target: 'out/db.sql', status: 'failed', level: 'error', message: 'empty: 0 B', duration_ms: 1 }],
      plain,
    );
    expect(lines[0]).toBe(`✖ dumps/${u.name} failed in 1.2s: exited with 3`);
    expect(lines[1]).toBe('    size out/db.sql: failed: empty: 0 B');
    expect(lines.slice(2)).toEqual(['    | two', '    | three', '    | four', '    | five', '    | six']);
  });

  it('marks warnings and failures at warning level apart from failures', () => {
    const u = unit('logs');
    expect(formatUnitOutcome(result(u, 'warning', { message: 'size grew 400%' }), [], plain)[0]).toBe('⚠ dumps/logs warning in 1.2s: size grew 400%');
    expect(formatUnitOutcome(result(u, 'timeout', { level: 'warning', message: 'timed out after 1m' }), [], plain)[0]).toBe(
      '✖ dumps/logs timeout (warning level) in 1.2s: timed out after 1m',
    );
  });
});

describe('printable', () => {
  it('keeps a log line on its line: no escape sequences, carriage returns or tabs reach the terminal', () => {
    expect(printable('\u001b[31mred\u001b[0m\tdone\r50%\u001b[2A\u0007')).toBe('red done 50%');
    const u = unit('db');
    const [, tail] = formatUnitOutcome(result(u, 'failed', { log_tail: ['progress 10%\rprogress 90%\u001b[1A'] }), [], plain);
    expect(tail).toBe('    | progress 10% progress 90%');
  });
});

describe('fitText', () => {
  it('keeps text that fits and ends cut text with an ellipsis', () => {
    expect(fitText('abc', 3)).toBe('abc');
    expect(fitText('abcdef', 4)).toBe('abc…');
    expect(fitText('abc', 0)).toBe('');
  });
});

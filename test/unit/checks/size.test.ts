// The size check: min, max_shrink / max_growth against the median of the window, first run, corrupt history.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateFileCount, evaluateSize, sizeCheck } from '../../../checks/size.js';
import type { CheckContext } from '../../../src/contract/check.js';
import type { HistoryEntry } from '../../../src/contract/history.js';
import { appendHistory, historyFile, historyReader } from '../../../src/state/history.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

type SizeOptions = import('../../../checks/size.js').SizeOptions;
const bounds: SizeOptions = { minBytes: 1_000_000, maxShrinkPct: 50, maxGrowthPct: 300, window: 14, level: 'error' };

function history(...sizes: number[]): HistoryEntry[] {
  return sizes.map((bytes, i) => ({ at: `2026-01-0${(i % 9) + 1}T00:00:00Z`, run_id: `r${i}`, bytes, file: `/b/app-${i}.tar.gz` }));
}

function context(options: SizeOptions): CheckContext<SizeOptions> {
  return {
    options,
    command: 'verify',
    runId: '20261121T000000Z-0000',
    exec: {} as CheckContext<SizeOptions>['exec'],
    signal: new AbortController().signal,
    hosts: {},
    systemctl: ['systemctl'],
    tempDir: '/tmp',
    env: {},
    now: Date.now,
  };
}

describe('evaluateSize (pure)', () => {
  it('fails below min, naming both sizes in bytes', () => {
    const outcome = evaluateSize(999_999, bounds, []);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('999999 bytes');
    expect(outcome.message).toContain('minimum');
  });

  it('passes with a note when there is no history yet', () => {
    const outcome = evaluateSize(5_000_000, bounds, []);
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toContain('no size history yet');
  });

  it('fails a dump that shrank more than max_shrink against the median of ~290 MB sizes', () => {
    const outcome = evaluateSize(100_000_000, bounds, history(290_940_000, 291_000_000, 290_000_000, 1_000_000_000));
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/shrank 65% against the median 277\.\d MiB \(290970000 bytes\) of the last 4/);
    expect(outcome.message).not.toMatch(/e\+/);
  });

  it('fails growth beyond max_growth and passes inside the range', () => {
    const past = history(100_000_000, 100_000_000, 100_000_000);
    expect(evaluateSize(400_000_001, bounds, past).status).toBe('failed');
    expect(evaluateSize(400_000_000, bounds, past).status).toBe('ok');
    expect(evaluateSize(50_000_000, bounds, past).status).toBe('ok');
    expect(evaluateSize(49_999_999, bounds, past).status).toBe('failed');
  });

  it('looks only at the last `window` sizes', () => {
    const past = history(10_000_000, 10_000_000, 10_000_000, 100_000_000, 100_000_000);
    expect(evaluateSize(90_000_000, { ...bounds, window: 2 }, past).status).toBe('ok');
    expect(evaluateSize(90_000_000, { ...bounds, window: 5 }, past).status).toBe('failed');
  });
});

describe('sizeCheck.run with a real history file', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await makeWorkspace('rearguard-size-');
  });
  afterEach(async () => {
    await ws.cleanup();
  });

  it('reads the history, leaving out this very artifact when it was already recorded', async () => {
    const state = ws.file('state');
    for (const [i, bytes] of [10_000_000, 10_000_000, 10_000_000].entries()) {
      await appendHistory(state, 'app', '/b/*', { at: `t${i}`, run_id: `r${i}`, bytes, file: `/b/${i}` });
    }
    // The small artifact was recorded once (e.g. by an earlier run): it must still be judged against the three before it.
    await appendHistory(state, 'app', '/b/*', { at: 't3', run_id: 'r3', bytes: 2_000_000, file: '/b/3' });
    const outcome = await sizeCheck.run(context(bounds), {
      unit: 'app',
      pattern: '/b/*',
      unitTimeoutMs: 1000,
      facts: { file: '/b/3', bytes: 2_000_000 },
      history: historyReader(state, 'app', '/b/*'),
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('shrank 80%');
  });

  it('passes with a warning note when the history file is corrupt, and still enforces min', async () => {
    const state = ws.file('state');
    const file = historyFile(state, 'app', '/b/*');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '\0\0garbage');
    const target = { unit: 'app', pattern: '/b/*', unitTimeoutMs: 1000, history: historyReader(state, 'app', '/b/*') };
    const ok = await sizeCheck.run(context(bounds), { ...target, facts: { file: '/b/x', bytes: 5_000_000 } });
    expect(ok.status).toBe('ok');
    expect(ok.message).toContain('corrupt');
    const small = await sizeCheck.run(context(bounds), { ...target, facts: { file: '/b/x', bytes: 10 } });
    expect(small.status).toBe('failed');
  });

  it('describes its rule for plan', () => {
    expect(sizeCheck.describe(bounds)).toBe('at least 976.6 KiB, shrinks at most 50%, grows at most 300%, against the median of the last 14');
  });
});

describe('evaluateFileCount (pure): the median rule on file counts', () => {
  const counted = (...files: number[]): HistoryEntry[] => history(...files.map(() => 5_000_000)).map((entry, i) => ({ ...entry, files: files[i]! }));
  it('fails a count that shrank past max_shrink, and one that grew past max_growth', () => {
    expect(evaluateFileCount(40, bounds, counted(100, 100, 90))).toMatchObject({ status: 'failed', message: expect.stringMatching(/^40 file\(s\): the count shrank 60% .*median 100 .*at least 50 were expected/) });
    expect(evaluateFileCount(401, bounds, counted(100))).toMatchObject({ status: 'failed', message: expect.stringMatching(/the count grew 301% .*at most 400 were expected/) });
    expect(evaluateFileCount(60, bounds, counted(100))).toMatchObject({ status: 'ok', message: '60 file(s), -40% against the median 100 file(s) of the last 1 verified count(s) (window 14)' });
  });
  it('has nothing to say without counts in the history or without bounds', () => {
    expect(evaluateFileCount(1, bounds, history(5_000_000))).toBeUndefined();
    expect(evaluateFileCount(1, { window: 14, level: 'error' }, counted(100))).toBeUndefined();
  });
});

// Size history: bounded atomic appends, corrupt files set aside (not overwritten), integer baselines.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareWithBaseline, computeBaseline, entriesBefore, medianBytes, percentChange } from '../../../checks/size/baseline.js';
import type { HistoryEntry } from '../../../src/contract/history.js';
import {
  appendHistory,
  HISTORY_LIMIT,
  HistoryCorruptError,
  historyFile,
  historyReader,
  largestRecentTotal,
  listSetAsideHistory,
  parseByteCount,
  readAllHistories,
  readHistory,
} from '../../../src/state/history.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

function entry(bytes: number, i = 0, runId = `run-${String(i).padStart(3, '0')}`): HistoryEntry {
  return { at: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), run_id: runId, bytes, file: `/b/app-${i}.tar.gz` };
}

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-history-');
});
afterEach(async () => {
  await ws.cleanup();
});

describe('appendHistory', () => {
  it('keeps only the last 100 entries, oldest dropped first', async () => {
    const state = ws.file('state');
    for (let i = 0; i < HISTORY_LIMIT + 5; i += 1) await appendHistory(state, 'app', '/b/*.tar.gz', entry(1000 + i, i));
    const entries = await readHistory(historyFile(state, 'app', '/b/*.tar.gz'));
    expect(entries).toHaveLength(HISTORY_LIMIT);
    expect(entries[0]!.bytes).toBe(1005);
    expect(entries.at(-1)!.bytes).toBe(1000 + HISTORY_LIMIT + 4);
  });

  it('writes the file 0600 and leaves no temp file behind', async () => {
    const state = ws.file('state');
    await appendHistory(state, 'app', '/b/*', entry(5));
    const names = await readdir(path.join(state, 'history'));
    expect(names).toEqual([path.basename(historyFile(state, 'app', '/b/*'))]);
    const { stat } = await import('node:fs/promises');
    expect((await stat(historyFile(state, 'app', '/b/*'))).mode & 0o777).toBe(0o600);
  });

  it('sets a corrupt file aside under a new name and starts again, keeping the old bytes', async () => {
    const state = ws.file('state');
    const file = historyFile(state, 'app', '/b/*');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"schema": "rearguard.history/v1", "entries": [ {"at": "x", "by');
    await expect(readHistory(file)).rejects.toBeInstanceOf(HistoryCorruptError);
    const result = await appendHistory(state, 'app', '/b/*', entry(42));
    expect(result.setAside).toMatch(/\.corrupt-\d{8}T\d{6}Z$/);
    expect(await readFile(result.setAside!, 'utf8')).toContain('"by');
    expect((await readHistory(file)).map((e) => e.bytes)).toEqual([42]);
    const aside = await listSetAsideHistory(state);
    expect(aside.map((a) => a.file)).toEqual([result.setAside]);
    expect(Math.abs(aside[0]!.at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('treats a file of the wrong shape as corrupt, and reads it without moving it in readAllHistories', async () => {
    const state = ws.file('state');
    const file = historyFile(state, 'app', '/b/*');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"entries": {}}');
    const all = await readAllHistories(state);
    expect(all).toHaveLength(1);
    expect(all[0]!.problem).toContain('corrupt');
    expect(await readFile(file, 'utf8')).toBe('{"entries": {}}');
  });
});

describe('byte counts are integers end to end', () => {
  it('reads numbers and strings, including scientific notation, as whole bytes', () => {
    expect(parseByteCount(290940000)).toBe(290940000);
    expect(parseByteCount('290940000')).toBe(290940000);
    expect(parseByteCount('2.9094e+08')).toBe(290940000);
    expect(parseByteCount(2.9094e8)).toBe(290940000);
    expect(parseByteCount('1.5')).toBeUndefined();
    expect(parseByteCount(1.5)).toBeUndefined();
    expect(parseByteCount(-1)).toBeUndefined();
    expect(parseByteCount('1e400')).toBeUndefined();
  });

  it('drops entries whose bytes are not whole numbers instead of crashing', async () => {
    const state = ws.file('state');
    const file = historyFile(state, 'app', '/b/*');
    await mkdir(path.dirname(file), { recursive: true });
    const entries = [
      { at: 'a', run_id: 'r1', bytes: '2.9094e+08', file: '/b/1' },
      { at: 'b', run_id: 'r2', bytes: 12.5, file: '/b/2' },
      { at: 'c', run_id: 'r3', bytes: 300000000, file: '/b/3' },
    ];
    await writeFile(file, JSON.stringify({ schema: 'rearguard.history/v1', unit: 'app', pattern: '/b/*', entries }));
    expect((await readHistory(file)).map((e) => e.bytes)).toEqual([290940000, 300000000]);
  });

  it('takes the median of large sizes without losing a byte', () => {
    const big = Number.MAX_SAFE_INTEGER - 10;
    expect(medianBytes([big, big - 2])).toBe(big - 1);
    expect(medianBytes([3, 1, 2])).toBe(2);
    expect(medianBytes([4, 1, 3, 2])).toBe(2);
    expect(medianBytes([])).toBeUndefined();
  });

  it('computes bounds with exact integer arithmetic (290 MB median, 50% shrink, 300% growth)', () => {
    const entries = [290_940_000, 290_940_001, 290_939_999].map((b, i) => entry(b, i));
    const baseline = computeBaseline(entries, { window: 14, maxShrinkPct: 50, maxGrowthPct: 300 })!;
    expect(baseline).toEqual({ count: 3, window: 14, median: 290_940_000, lowest: 145_470_000, highest: 1_163_760_000 });
    expect(compareWithBaseline(145_470_000, baseline)).toBe('within');
    expect(compareWithBaseline(145_469_999, baseline)).toBe('shrunk');
    expect(compareWithBaseline(1_163_760_000, baseline)).toBe('within');
    expect(compareWithBaseline(1_163_760_001, baseline)).toBe('grown');
  });

  it('keeps fractional percentages exact and rounds the lower bound up', () => {
    const baseline = computeBaseline([entry(1001)], { window: 1, maxShrinkPct: 12.5 })!;
    // 1001 * 0.875 = 875.875: 875 bytes shrank more than 12.5%, 876 did not.
    expect(baseline.lowest).toBe(876);
    expect(baseline.highest).toBeUndefined();
  });

  it('uses only the last `window` entries', () => {
    const entries = [1, 1, 1, 100, 100, 100].map((b, i) => entry(b, i));
    expect(computeBaseline(entries, { window: 3 })!.median).toBe(100);
    expect(computeBaseline([], { window: 3 })).toBeUndefined();
  });

  it('prints percentage changes from integers', () => {
    expect(percentChange(37, 100)).toBe('-63%');
    expect(percentChange(112, 100)).toBe('+12%');
    expect(percentChange(290_940_000 * 4, 290_940_000)).toBe('+300%');
  });
});

describe('entriesBefore', () => {
  it('leaves out the newest entry when it is the artifact being checked again', () => {
    const entries = [entry(10, 1), entry(20, 2)];
    expect(entriesBefore(entries, { file: '/b/app-2.tar.gz', bytes: 20 })).toHaveLength(1);
    expect(entriesBefore(entries, { file: '/b/app-3.tar.gz', bytes: 20 })).toHaveLength(2);
    expect(entriesBefore(entries, { file: '/b/app-2.tar.gz', bytes: 21 })).toHaveLength(2);
  });

  it('keeps it when the same file was rewritten in place at the same size (its mtime moved), and reads the mtime back', async () => {
    const at = '2026-11-20T02:00:00.000Z';
    const recorded = { ...entry(20, 2), file: '/b/db.dump', mtime: at };
    const entries = [entry(10, 1), recorded];
    expect(entriesBefore(entries, { file: '/b/db.dump', bytes: 20, mtimeMs: Date.parse(at) + 0.4 })).toHaveLength(1);
    expect(entriesBefore(entries, { file: '/b/db.dump', bytes: 20, mtimeMs: Date.parse(at) + 86_400_000 })).toHaveLength(2);
    // Entries recorded before the mtime was kept still match on file and size.
    expect(entriesBefore([entry(10, 1), { ...entry(20, 2), file: '/b/db.dump' }], { file: '/b/db.dump', bytes: 20, mtimeMs: 1 })).toHaveLength(1);
    const state = ws.file('state');
    await appendHistory(state, 'u', '/b/db.dump', recorded);
    expect((await historyReader(state, 'u', '/b/db.dump').read(5)).at(-1)?.mtime).toBe(at);
  });
});

describe('largestRecentTotal', () => {
  it('sums the artifacts of each run and returns the largest recent run, skipping corrupt files', async () => {
    const state = ws.file('state');
    await appendHistory(state, 'a', '/a/*', entry(100, 1, 'r1'));
    await appendHistory(state, 'b', '/b/*', entry(250, 1, 'r1'));
    await appendHistory(state, 'a', '/a/*', entry(300, 2, 'r2'));
    await writeFile(path.join(state, 'history', 'junk-0000.json'), 'not json');
    expect(await largestRecentTotal(state)).toBe(350);
    expect(await largestRecentTotal(ws.file('empty'))).toBeUndefined();
  });
});

import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunDir, makeRunId, pruneRunDirs } from '../../../src/state/run-dir.js';

let state: string;
beforeEach(async () => {
  state = await mkdtemp(path.join(os.tmpdir(), 'rearguard-rundir-'));
});
afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});

/** A run folder as a run leaves it: a unit log and a report. */
async function makeRun(at: Date): Promise<string> {
  const id = makeRunId(at);
  const dir = await createRunDir(state, id);
  await writeFile(path.join(dir, 'app.log'), 'output\n');
  await writeFile(path.join(dir, 'report.json'), '{}');
  return id;
}

const runs = async (): Promise<string[]> => (await readdir(path.join(state, 'runs'))).sort();
const DAY = 86_400_000;

describe('run folders', () => {
  it('keeps the newest count, and never the current run, however many are older', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push(await makeRun(new Date(Date.UTC(2026, 10, 1, 10, i))));
    await mkdir(path.join(state, 'runs', 'not-a-run'));
    expect(await pruneRunDirs(state, ids[5]!, { count: 3, maxAgeMs: Infinity })).toEqual([]);
    expect(await runs()).toEqual([...ids.slice(3), 'not-a-run'].sort());
    // The current run counts as the newest, even where its id sorts among the oldest (two runs in one second).
    expect(await pruneRunDirs(state, ids[3]!, { count: 2, maxAgeMs: Infinity })).toEqual([]);
    expect(await runs()).toEqual([ids[3], ids[5], 'not-a-run'].sort());
    expect(await pruneRunDirs(state, ids[3]!, { count: 1, maxAgeMs: Infinity })).toEqual([]);
    expect(await runs()).toEqual([ids[3], 'not-a-run'].sort());
  });

  it('removes the folders older than max_age, within the count', async () => {
    const old = await makeRun(new Date(Date.now() - 10 * DAY));
    const recent = await makeRun(new Date(Date.now() - DAY));
    const current = await makeRun(new Date());
    expect(await runs()).toEqual([old, recent, current].sort());
    expect(await pruneRunDirs(state, current, { count: 50, maxAgeMs: 5 * DAY })).toEqual([]);
    expect(await runs()).toEqual([recent, current].sort());
  });

  it('says so, instead of throwing, when the run folders cannot be listed', async () => {
    // A folder that cannot be removed (a mount point in it) is in test/faults/prune-runs.test.ts.
    const runsDir = path.join(state, 'runs');
    expect(await pruneRunDirs(state, 'none', { count: 1, maxAgeMs: Infinity })).toEqual([
      `could not list the run folders in ${runsDir} to prune them: ENOENT: no such file or directory, scandir '${runsDir}'`,
    ]);
  });
});

// Fault: a run holding the lock is killed with SIGKILL while its unit runs. The run that recovers the stale lock stops the unit's leftovers first, or refuses when told to.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeftoverProcessesError, stopLeftovers } from '../../src/state/live-processes.js';
import { acquireLock } from '../../src/state/lock.js';
import { ROOT } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { waitForLine, waitForLines } from '../helpers/wait-line.js';

const RUN_ID = '20260101T000000Z-dead';
let dir: string;
let pids: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-fault-stale-'));
  pids = [];
});
afterEach(async () => {
  // Whatever a failed assertion left running: the listed pids, and the rest of the dead run's cgroup.
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  await stopLeftovers(path.join(dir, 'state', 'runs', RUN_ID), 0);
  await rm(dir, { recursive: true, force: true });
});

/** A locked run whose unit forks a background child and a setsid daemon; SIGKILLed once all are up. */
async function killLockedRun(): Promise<number[]> {
  const state = path.join(dir, 'state');
  const script = path.join(dir, 'unit.sh');
  await writeFile(script, `#!/bin/sh
echo $$ >> ${dir}/pids
sleep 600 &
echo $! >> ${dir}/pids
setsid sh -c 'echo $$ >> ${dir}/pids; exec sleep 600' &
sleep 600
`, { mode: 0o755 });
  const child = execa(process.execPath, [path.join(ROOT, 'test/helpers/contained-child.mjs'), path.join(state, 'runs', RUN_ID), 'on', path.join(dir, 'unit.log'), script], {
    reject: false,
    env: { REARGUARD_TEST_STATE_DIR: state, REARGUARD_TEST_RUN_ID: RUN_ID },
  });
  await waitForLine(child.stdout!, /^started$/);
  pids = (await waitForLines(path.join(dir, 'pids'), 3)).map(Number);
  child.kill('SIGKILL');
  await child;
  return pids;
}

const holder = { command: 'next run', started_at: new Date().toISOString(), run_id: '20260101T000100Z-beef' };

describe('fault: kill -9 of a run holding the lock, during a unit', () => {
  it('the run that recovers the lock stops every process the dead run left before it holds the lock, and says which', async () => {
    const [, ...rest] = await killLockedRun();
    for (const pid of rest) expect(pidAlive(pid)).toBe(true);
    const lock = await acquireLock({ stateDir: path.join(dir, 'state'), holder, waitMs: 0 });
    try {
      expect(lock.recovered?.run_id).toBe(RUN_ID);
      expect(lock.leftovers?.survivors).toEqual([]);
      const stopped = lock.leftovers!.stopped.flatMap((l) => l.pids);
      for (const pid of rest) {
        expect(stopped).toContain(pid);
        expect(pidAlive(pid), `pid ${pid}`).toBe(false);
      }
      expect(existsSync(path.join(dir, 'state/runs', RUN_ID, 'live.jsonl'))).toBe(false);
    } finally {
      await lock.release();
    }
  });

  it('with the refuse policy, nothing is stopped, the error names the processes, and the stale lock stays', async () => {
    const [, ...rest] = await killLockedRun();
    const taking = acquireLock({ stateDir: path.join(dir, 'state'), holder, waitMs: 0, leftovers: 'refuse' });
    await expect(taking).rejects.toBeInstanceOf(LeftoverProcessesError);
    const error = (await taking.catch((e: unknown) => e)) as LeftoverProcessesError;
    expect(error.runId).toBe(RUN_ID);
    for (const pid of rest) expect(error.message).toContain(String(pid));
    expect(error.message).toMatch(/^the killed run 20260101T000000Z-dead left processes running: victim \(.*unit\.sh\): pids .* in cgroup .*; expected none, so nothing was started/);
    for (const pid of rest) expect(pidAlive(pid)).toBe(true);
    expect(existsSync(path.join(dir, 'state/rearguard.lock'))).toBe(true);
  });
});

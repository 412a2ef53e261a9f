// Which launcher a program goes to. The pool decides from each launcher's count of waiting starts alone, so these
// launchers are stand-ins with counts set by the test: with real ones, the counts depend on how fast each answers.
// test/integration/launcher.test.ts runs real launchers through the pool.
import { describe, expect, it } from 'vitest';
import type { Launcher } from '../../../src/exec/launcher.js';
import { createLauncherPool } from '../../../src/exec/launcher-pool.js';

interface StandIn extends Launcher {
  name: string;
  queued: number;
  closed: boolean;
}

function standIn(name: string): StandIn {
  const launcher: StandIn = {
    name,
    queued: 0,
    closed: false,
    start: () => Promise.resolve({ kind: 'unavailable' }),
    waiting: () => launcher.queued,
    close: () => {
      launcher.closed = true;
      return Promise.resolve();
    },
  };
  return launcher;
}

describe('the launcher pool', () => {
  it('takes the first launcher with the first program and keeps it while it has nothing waiting', () => {
    const made: StandIn[] = [];
    const pool = createLauncherPool(() => standIn('ahead'), () => {
      made.push(standIn(`more${made.length}`));
      return made[made.length - 1];
    }, 2);
    const first = pool.pick() as StandIn;
    expect(first.name).toBe('ahead');
    // Programs one after another: the first answered each start before the next came.
    expect((pool.pick() as StandIn).name).toBe('ahead');
    expect(made).toEqual([]);
  });

  it('adds a second launcher when the first has starts waiting, then sends each program to the one with fewer waiting', () => {
    const ahead = standIn('ahead');
    const second = standIn('second');
    let asked = 0;
    const pool = createLauncherPool(() => ahead, () => {
      asked += 1;
      return second;
    }, 2);
    expect(pool.pick()).toBe(ahead);
    ahead.queued = 1;
    expect(pool.pick()).toBe(second);
    second.queued = 1;
    ahead.queued = 3;
    expect(pool.pick()).toBe(second);
    second.queued = 4;
    expect(pool.pick()).toBe(ahead);
    // Never more than `max`, however long the queues.
    expect(asked).toBe(1);
  });

  it('starts no second launcher where one is the most (a single core)', () => {
    const ahead = standIn('ahead');
    const pool = createLauncherPool(() => ahead, () => standIn('second'), 1);
    pool.pick();
    ahead.queued = 16;
    expect(pool.pick()).toBe(ahead);
  });

  it('does not replace a launcher that is gone: its programs go to the other, then to rearguard itself', async () => {
    const ahead = standIn('ahead');
    const second = standIn('second');
    const pool = createLauncherPool(() => ahead, () => second, 2);
    pool.pick();
    ahead.queued = 1;
    expect(pool.pick()).toBe(second);
    pool.drop(ahead);
    expect(pool.pick()).toBe(second);
    pool.drop(second);
    expect(pool.pick()).toBeUndefined();
    await pool.close(10);
    expect(ahead.closed || second.closed).toBe(false);
  });

  it('leaves every program to rearguard when the first launcher cannot be spawned, and closes what it started', async () => {
    const none = createLauncherPool(() => undefined, () => standIn('never'), 2);
    expect(none.pick()).toBeUndefined();
    expect(none.pick()).toBeUndefined();
    const ahead = standIn('ahead');
    const second = standIn('second');
    const pool = createLauncherPool(() => ahead, () => second, 2);
    pool.pick();
    ahead.queued = 1;
    pool.pick();
    await pool.close(10);
    expect([ahead.closed, second.closed]).toEqual([true, true]);
  });
});

// The launchers of one run: the one started ahead, and a second once programs queue for the first, where the machine
// has a core for it. A launcher starts one program at a time, and each start waits until its child has exec'd (a
// fork of a Node process, about a millisecond here), so with many short units one launcher is the queue; a second
// takes turns with it (measured on 2 cores: 200 `true` units at concurrency 16 in 0.95× the time of one).
import os from 'node:os';
import type { Launcher } from './launcher.js';

/** The launchers a run starts its programs through. */
export interface LauncherPool {
  /** The launcher for the next program, the one with the fewest starts waiting; undefined: rearguard starts it itself. */
  pick(): Launcher | undefined;
  /** A launcher found gone (it answered `unavailable`): the next programs go to the others, or to rearguard itself. */
  drop(launcher: Launcher): void;
  /** Ends every launcher, waiting at most `waitMs` for each. */
  close(waitMs: number): Promise<void>;
}

/** The default: two launchers at most, one on a machine with a single core. */
export function defaultLauncherCount(): number {
  return Math.min(2, os.availableParallelism());
}

/**
 * A pool that takes `first()` with the first program and adds `another()` when every launcher it has has starts
 * waiting, up to `max` launchers started in all: a launcher that dies is not replaced, so one that cannot run is
 * not started again and again. Either may return undefined (the launcher could not be spawned).
 */
export function createLauncherPool(first: () => Launcher | undefined, another: () => Launcher | undefined, max: number): LauncherPool {
  const live: Launcher[] = [];
  let started = 0;
  let taken = false;
  const add = (make: () => Launcher | undefined): Launcher | undefined => {
    started += 1;
    const launcher = make();
    if (launcher) live.push(launcher);
    return launcher;
  };
  return {
    pick() {
      if (!taken) {
        taken = true;
        return add(first);
      }
      if (live.length === 0) return undefined;
      const least = live.reduce((best, launcher) => (launcher.waiting() < best.waiting() ? launcher : best));
      if (least.waiting() > 0 && started < max) return add(another) ?? least;
      return least;
    },
    drop(launcher) {
      const at = live.indexOf(launcher);
      if (at >= 0) live.splice(at, 1);
    },
    async close(waitMs) {
      const closing = live.splice(0);
      await Promise.all(closing.map((launcher) => launcher.close(waitMs)));
    },
  };
}

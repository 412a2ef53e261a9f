// The run lock: one run per state dir; a dead holder's lock is recovered, a planted symlink is refused.
import { processExists } from '../util/process-exists.js';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LockHeldError, type LockHolder } from '../errors.js';
import { findLeftovers, LeftoverProcessesError, processStartTime, stopLeftovers, type StopOutcome } from './live-processes.js';

/** A held lock; release it on every path. */
export interface Lock {
  path: string;
  release(): Promise<void>;
  /** Set when a stale lock of a dead run was taken over. */
  recovered?: LockHolder;
  /** What was done about processes the dead run left running (only when there were any). */
  leftovers?: StopOutcome;
}

/** What to do when a dead run's processes still run: stop them (default) or refuse to start. */
export type LeftoverPolicy = 'stop' | 'refuse';

/** Options for taking the lock. */
export interface AcquireOptions {
  stateDir: string;
  holder: Omit<LockHolder, 'pid' | 'host'>;
  waitMs: number;
  signal?: AbortSignal;
  /** Called once when the lock is held by another run and we start waiting for it. */
  onWait?: (holder: LockHolder | undefined) => void;
  /** Processes a dead holder left running: stopped before the lock is taken over (default), or LeftoverProcessesError. */
  leftovers?: LeftoverPolicy;
}

const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

const LOCK_NAME = 'rearguard.lock';

/** Takes the lock of `stateDir`, waiting up to `waitMs`; throws LockHeldError. */
export async function acquireLock(options: AcquireOptions): Promise<Lock> {
  const lockPath = path.join(options.stateDir, LOCK_NAME);
  const holder: LockHolder = { ...options.holder, pid: process.pid, host: os.hostname() };
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + options.waitMs;
  let recovered: LockHolder | undefined;
  let leftovers: StopOutcome | undefined;
  let waiting = false;
  for (;;) {
    const created = await tryCreate(lockPath, holder);
    if (created) return makeLock(lockPath, recovered, leftovers);
    const current = await readHolder(lockPath);
    if (current.holder && isStale(current.holder)) {
      recovered = current.holder;
      // The dead run's backups may still be running (rearguard was SIGKILLed mid-unit): they must
      // be gone before this run can start the same backups beside them. The stale lock stays in
      // place until then, so a refusal leaves the state exactly as it was found.
      const deadRunDir = RUN_ID.test(current.holder.run_id ?? '') ? path.join(options.stateDir, 'runs', current.holder.run_id) : undefined;
      if (deadRunDir) {
        const found = findLeftovers(deadRunDir);
        if (found.length > 0 && options.leftovers === 'refuse') throw new LeftoverProcessesError(current.holder.run_id, found);
        const outcome = await stopLeftovers(deadRunDir);
        if (outcome.stopped.length > 0) leftovers = outcome;
      }
      // Remove only if it is still the same stale lock (another run may have recovered it first).
      const again = await readHolder(lockPath);
      if (again.raw === current.raw) await unlink(lockPath).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline || options.signal?.aborted) {
      throw new LockHeldError(current.holder, lockPath, current.problem);
    }
    if (!waiting) {
      waiting = true;
      options.onWait?.(current.holder);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}

async function tryCreate(lockPath: string, holder: LockHolder): Promise<boolean> {
  let handle;
  try {
    // O_EXCL refuses any existing entry, symlinks included, so a planted link cannot redirect the write.
    handle = await open(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify({ ...holder, pid_start: processStartTime(holder.pid) })}\n`);
    await handle.sync();
  } catch (error) {
    // An empty or half-written lock names no holder, so no later run could recover it: it goes.
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw new Error(`could not write the lock ${lockPath}: ${(error as Error).message}; free space in state_dir or make it writable`, { cause: error });
  }
  await handle.close();
  return true;
}

async function readHolder(lockPath: string): Promise<{ holder?: LockHolder & { pid_start?: string }; raw?: string; problem?: string }> {
  try {
    const info = await lstat(lockPath);
    if (info.isSymbolicLink()) return { problem: 'the lock path is a symbolic link; remove it by hand after checking who planted it' };
    const raw = await readFile(lockPath, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    return { holder: JSON.parse(raw) as LockHolder, raw };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** A lock is stale when it was taken on this host by a process that no longer exists. */
function isStale(holder: LockHolder & { pid_start?: string }): boolean {
  if (holder.host !== os.hostname()) return false;
  if (!processExists(holder.pid)) return true;
  // Same pid, other process: the pid was reused after the holder died.
  const start = processStartTime(holder.pid);
  return holder.pid_start !== undefined && start !== undefined && start !== holder.pid_start;
}

function makeLock(lockPath: string, recovered: LockHolder | undefined, leftovers: StopOutcome | undefined): Lock {
  let released = false;
  return {
    path: lockPath,
    ...(recovered && { recovered }),
    ...(leftovers && { leftovers }),
    async release() {
      if (released) return;
      released = true;
      await unlink(lockPath).catch(() => undefined);
    },
  };
}

// Holds the run lock around a piece of work and releases it on every path.
import { acquireLock, type AcquireOptions, type Lock } from '../state/lock.js';

/** Takes the lock, runs `work`, and releases the lock in `finally` (throws LockHeldError before running anything). */
export async function withLock<T>(options: AcquireOptions, work: (lock: Lock) => Promise<T>): Promise<T> {
  const lock = await acquireLock(options);
  try {
    return await work(lock);
  } finally {
    await lock.release();
  }
}

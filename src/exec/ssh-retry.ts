// Backoff between SSH connection attempts: the shared capped backoff with SSH's own base and cap.
import { backoffDelay } from '../util/backoff.js';

export { sleepUnlessAborted } from '../util/backoff.js';

/** Base delay of the first retry; doubles with each further attempt. */
export const RETRY_BASE_MS = 1_000;
/** No single wait is longer than this. */
export const RETRY_MAX_MS = 30_000;

/** The wait before connection retry `attempt` (1-based), between 50% and 100% of min(30s, base·2^(attempt-1)). */
export function retryDelay(attempt: number, baseMs = RETRY_BASE_MS, random: () => number = Math.random): number {
  return backoffDelay(attempt, { baseMs, maxMs: RETRY_MAX_MS }, random);
}

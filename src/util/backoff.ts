// One backoff for every retry (units, SSH connections, webhooks): exponential, capped, with jitter; and an abortable wait.
import { onAbort } from './abort-hub.js';

/** How a retry loop backs off: the first wait, and the longest any single wait may be. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait before retry `attempt` (1-based): min(max, base·2^(attempt-1)), with jitter between 50%
 * and 100% so that runs retrying together do not retry in step.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/**
 * Waits `ms`; resolves false at once when `signal` aborts (before or during the wait), true otherwise.
 * It listens through the abort hub: many units backing off at once on the run's one signal must not
 * add one listener each (Node warns of a leak past ten).
 */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      off();
      resolve(true);
    }, ms);
    const off = onAbort(signal, () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

// Backoff between connection attempts: exponential with jitter, cut short by an abort.

/** Base delay of the first retry; doubles with each further attempt. */
export const RETRY_BASE_MS = 1_000;
/** No single wait is longer than this. */
export const RETRY_MAX_MS = 30_000;

/** The wait before retry `attempt` (1-based): base·2^(attempt-1), "full jitter" between 50% and 100%. */
export function retryDelay(attempt: number, baseMs = RETRY_BASE_MS, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_MAX_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

/** Waits `ms`; resolves false at once when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// The two reasons a running process is stopped from outside: its timeout, and the run's abort.
import { onAbort } from '../util/abort-hub.js';

/**
 * Calls `stop` when `timeoutMs` has passed and when `signal` aborts (each at most once; either may come
 * after the other, and `stop` must be safe to call twice). Returns the function that disarms both.
 */
export function armDeadline(timeoutMs: number, signal: AbortSignal | undefined, stop: (why: 'timeout' | 'abort') => void): () => void {
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  const unsubscribe = onAbort(signal, () => stop('abort'));
  return () => {
    clearTimeout(timer);
    unsubscribe();
  };
}

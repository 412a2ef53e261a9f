// One abort listener per signal, shared by every process of a run, so concurrency does not pile listeners on it.

type Callback = () => void;

const subscribers = new WeakMap<AbortSignal, Set<Callback>>();

/**
 * Calls `callback` once when `signal` aborts (at once if it already has) and returns the function
 * that cancels the subscription. A run's signal is shared by every unit, check and SSH command in
 * flight; one EventTarget listener per process would cross Node's leak threshold (10) as soon as
 * 11 run at once. Here the signal carries a single listener whatever the concurrency, and an
 * abandoned subscription is dropped from a Set rather than left on the signal.
 */
export function onAbort(signal: AbortSignal | undefined, callback: Callback): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    callback();
    return () => undefined;
  }
  let set = subscribers.get(signal);
  if (!set) {
    const created = new Set<Callback>();
    set = created;
    subscribers.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        subscribers.delete(signal);
        for (const subscriber of [...created]) subscriber();
        created.clear();
      },
      { once: true },
    );
  }
  const entry: Callback = () => callback();
  set.add(entry);
  return () => {
    set.delete(entry);
  };
}

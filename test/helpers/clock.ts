// Waits for a wall-clock boundary (not a fixed sleep): `fresh` compares whole seconds, so a test that needs
// "made before the unit started" starts the unit once the clock has left the second the backup was made in.

/** Resolves once the current second is later than the second of `since` (default: now). */
export async function leaveSecondOf(since: number = Date.now()): Promise<void> {
  const second = Math.floor(since / 1000);
  while (Math.floor(Date.now() / 1000) <= second) await new Promise((resolve) => setTimeout(resolve, 20));
}

// One rule for a backup whose mtime lies in the future: its age cannot be judged, so neither max_age nor fresh may pass it.
import { formatDuration } from './duration.js';

/** Clock difference tolerated between the host that wrote a backup and this one (a NAS a little ahead is normal). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** Why `mtimeMs` cannot be trusted (more than the tolerance ahead of `nowMs`), or undefined when it can. */
export function describeFutureMtime(file: string, mtimeMs: number, nowMs: number): string | undefined {
  const ahead = mtimeMs - nowMs;
  if (ahead <= FUTURE_TOLERANCE_MS) return undefined;
  return `${file} was written at ${new Date(mtimeMs).toISOString()}, ${formatDuration(ahead)} in the future: its age cannot be judged; fix the clock of the host that wrote it`;
}

// Size-history records as checks read them; src/state/history keeps them on disk.

/** A size-history entry of one artifact. */
export interface HistoryEntry {
  at: string;
  run_id: string;
  bytes: number;
  /** The backup's file count, where its source counts them (a mirror folder). */
  files?: number;
  sha256?: string;
  file: string;
  /** When the backup was completed (a file's mtime), ISO 8601; absent in entries recorded before it was kept. */
  mtime?: string;
}

/**
 * Whether `entry` records this very backup: same file and size, and the same sha256 and completion time
 * where both sides know them. A dump rewritten in place at the same size is a new backup (its mtime moved).
 */
export function isSameBackup(entry: HistoryEntry, current: { file?: string; bytes?: number; sha256?: string; mtimeMs?: number }): boolean {
  return (
    entry.file === current.file &&
    entry.bytes === current.bytes &&
    (entry.sha256 === undefined || current.sha256 === undefined || entry.sha256 === current.sha256) &&
    (entry.mtime === undefined || current.mtimeMs === undefined || Date.parse(entry.mtime) === Math.trunc(current.mtimeMs))
  );
}

/** Read access to an artifact's verified size history. */
export interface HistoryReader {
  /** Most recent entries last; at most `limit`. */
  read(limit: number): Promise<HistoryEntry[]>;
}

/** A history that exists but cannot be read; checks judge without it and say so. */
export class HistoryUnreadableError extends Error {
  override name = 'HistoryUnreadableError';
}

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

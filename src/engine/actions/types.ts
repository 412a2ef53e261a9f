// The contract of unit actions (run, shell, systemd, sqlite_backup).
import type { Exec } from '../../exec/types.js';
import type { PlannedUnit } from '../../plan/types.js';

/** What an action needs: the unit, its env, where to log, and how to stop. */
export interface ActionContext {
  unit: PlannedUnit;
  env: Record<string, string>;
  logFile: string;
  exec: Exec;
  systemctl: string[];
  signal: AbortSignal;
  /** Appends a line of rearguard's own to the unit log. */
  note: (line: string) => Promise<void>;
}

/** How an action ended. */
export interface ActionResult {
  status: 'ok' | 'failed' | 'timeout' | 'skipped' | 'aborted';
  exitCode: number | null;
  signal?: string;
  message: string;
  /** Set when the output went past log_max and the middle of the log was dropped. */
  logTruncated?: { bytes: number; droppedBytes: number };
}

/** Runs one attempt of a unit's action. */
export type Action = (ctx: ActionContext) => Promise<ActionResult>;

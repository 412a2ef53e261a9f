// Result shapes of a run: what the engine produces and every reporter (JSON, JUnit, metrics) reads.
import type { CommandName, Level, Verdict } from '../config/types.js';

export type CheckStatus = 'ok' | 'failed' | 'warning' | 'skipped';
export type UnitStatus = 'ok' | 'failed' | 'timeout' | 'skipped' | 'warning';

/** The outcome of one check (pre-flight or artifact). */
export interface CheckResult {
  id: string;
  /** What was checked, for people: "/mnt/nas-backup", "backup-*.tar.gz". */
  target: string;
  status: CheckStatus;
  level: Level;
  message: string;
  /** Extra lines, e.g. the first problems integrity_check reported. */
  details?: string[];
  duration_ms: number;
}

/** One artifact of a unit and the checks run on it. */
export interface ArtifactResult {
  pattern: string;
  path?: string;
  bytes?: number;
  sha256?: string;
  mtime?: string;
  status: CheckStatus;
  checks: CheckResult[];
}

/** The outcome of one unit, its process and its artifacts. */
export interface UnitResult {
  name: string;
  stage: string;
  kind: string;
  host?: string;
  level: Level;
  critical: boolean;
  status: UnitStatus;
  message: string;
  exit_code: number | null;
  signal?: string;
  attempts: number;
  started_at?: string;
  duration_ms: number;
  log?: string;
  log_tail?: string[];
  /** Set when the unit printed more than log_max: how much it printed and how much of the middle was dropped. */
  log_truncated?: { bytes: number; dropped_bytes: number };
  artifacts: ArtifactResult[];
}

/** The outcome of one stage. */
export interface StageResult {
  name: string;
  level: Level;
  units: UnitResult[];
}

/** Unit tallies for the summary and the report. */
export interface Counts {
  planned: number;
  attempted: number;
  ok: number;
  warning: number;
  failed: number;
  timeout: number;
  skipped: number;
  checks_failed: number;
  checks_warning: number;
}

/** The JSON report: schema rearguard.report/v1. */
export interface RunReport {
  schema: 'rearguard.report/v1';
  run_id: string;
  command: CommandName;
  config: string;
  host: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  exit_code: 0 | 1 | 2;
  verdict: Verdict;
  reason: string;
  /** Things that went wrong around the backups themselves (metrics push, stale lock, notify). */
  warnings: string[];
  /** Things worth knowing that do not change the verdict (a recovered stale lock). */
  notes: string[];
  /** How unit processes were contained: a cgroup per unit, or process groups only. */
  containment?: { mechanism: 'cgroup' | 'process-group'; parent_death_signal: boolean; summary: string };
  preflight: CheckResult[];
  stages: StageResult[];
  counts: Counts;
  failure_ratio: number;
}

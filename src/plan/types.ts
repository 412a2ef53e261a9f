// The Plan: what a command will do, decided before anything runs.
import type { CommandName, Level, ResolvedPreflight, UnitAction } from '../config/types.js';

/** A check chosen for an artifact, with its options and level. */
export interface PlannedCheck {
  id: string;
  level: Level;
  options: unknown;
  description: string;
}

/** An artifact and the checks that will run on it, in order. */
export interface PlannedArtifact {
  pattern: string;
  checks: PlannedCheck[];
}

/** A unit ready to run: systemd matches are expanded, names are final. */
export interface PlannedUnit {
  name: string;
  stage: string;
  action: Exclude<UnitAction, { kind: 'systemd-match' }> | Extract<UnitAction, { kind: 'systemd-match' }>;
  host?: string;
  cwd: string;
  env: Record<string, string>;
  envFile?: string;
  timeoutMs: number;
  killGraceMs: number;
  retries: number;
  retryDelayMs: number;
  critical: boolean;
  level: Level;
  ifRunning: 'wait' | 'skip' | 'fail';
  artifacts: PlannedArtifact[];
}

/** A stage with its resolved concurrency. */
export interface PlannedStage {
  name: string;
  level: Level;
  concurrency: number;
  units: PlannedUnit[];
}

/** A pre-flight check to run. */
export interface PlannedPreflight {
  id: string;
  level: Level;
  item: ResolvedPreflight;
  description: string;
}

/** The whole plan of one command. */
export interface Plan {
  command: CommandName;
  /** orchestrate runs units; verify, restore-test and audit only check artifacts. */
  runsUnits: boolean;
  preflight: PlannedPreflight[];
  stages: PlannedStage[];
  /** Units left out by --only / --skip. */
  excluded: string[];
  notes: string[];
}

/** Services known to exist, per host ('' is this machine), for expanding systemd matches. */
export interface Inventory {
  systemdServices: Record<string, string[]>;
}

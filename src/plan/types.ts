// The Plan: what a command will do, decided before anything runs.
import type { CommandName, Level, ResolvedPreflight, UnitAction } from '../config/types.js';
import type { Stops } from '../contract/check.js';

/** An artifact step (a check, or an action such as upload) chosen for an artifact, with its options and level. */
export interface PlannedCheck {
  id: string;
  level: Level;
  options: unknown;
  description: string;
  /** From the step's declaration: whether its failure stops the artifact's later steps. */
  stops: Stops;
}

/** An artifact and the steps that will run on it, in order. */
export interface PlannedArtifact {
  /** How the artifact is named in plans and reports (the glob of a file artifact). */
  pattern: string;
  /** Which source locates its backup, and the source's options. */
  source: { kind: string; options: unknown };
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
  logMaxBytes: number;
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

/**
 * What a command may change, decided with the plan so the engine never asks which command it runs:
 * `audit` changes nothing (no lock, no history, no run folder, no metrics or notifications).
 */
export interface PlanEffects {
  /** Take the run lock of state_dir. */
  lock: boolean;
  /** Keep a run folder (logs, report.json) in state_dir/runs. */
  runRecord: boolean;
  /** Record verified sizes in the size history. */
  history: boolean;
  /** Push metrics, send notifications and write the config's report files. */
  deliver: boolean;
}

/** The whole plan of one command. */
export interface Plan {
  command: CommandName;
  /** orchestrate runs units; verify, restore-test and audit only check artifacts. */
  runsUnits: boolean;
  effects: PlanEffects;
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

// ResolvedConfig: the one normalised shape every later step reads (durations in ms, sizes in bytes, absolute paths).

export type Level = 'error' | 'warning';
export type CommandName = 'orchestrate' | 'verify' | 'restore-test' | 'audit' | 'plan';
export type Verdict = 'ok' | 'partial' | 'critical';

/** An SSH target from `hosts`. */
export interface ResolvedHost {
  name: string;
  destination: string;
  port?: number;
  identityFile?: string;
  knownHosts?: string;
  connectTimeoutMs: number;
  retries: number;
  concurrency?: number;
  sshOptions: Record<string, string>;
}

/** What a unit does. `systemd-match` is expanded by buildPlan against the inventory. */
export type UnitAction =
  | { kind: 'run'; argv: string[] }
  | { kind: 'shell'; script: string }
  | { kind: 'systemd'; service: string }
  | { kind: 'systemd-match'; match: string; exclude: string[] }
  | { kind: 'sqlite_backup'; source: string; dest: string };

/** One artifact of a unit: its source, its level, and each check's own key as that check resolved it. */
export interface ResolvedArtifact {
  /** How the artifact is named in plans and reports (the glob of a file artifact). */
  pattern: string;
  /** Where its backup lives: the source kind (its config key) and the options its source resolved. */
  source: { kind: string; options: unknown };
  level: Level;
  /** By config key (`size`, `checksum`, `upload`...): what the key's owner resolved; absent keys are absent. */
  options: Readonly<Record<string, unknown>>;
}

/** A unit as configured (a systemd match is still one entry here). */
export interface ResolvedUnit {
  name: string;
  stage: string;
  action: UnitAction;
  host?: string;
  cwd: string;
  env: Record<string, string>;
  envFile?: string;
  timeoutMs: number;
  killGraceMs: number;
  retries: number;
  retryDelayMs: number;
  /** Largest unit log kept; past it the middle is dropped. */
  logMaxBytes: number;
  critical: boolean;
  level: Level;
  ifRunning: 'wait' | 'skip' | 'fail';
  artifacts: ResolvedArtifact[];
}

/** A stage: units that run concurrently, bounded by `concurrency`. */
export interface ResolvedStage {
  name: string;
  level: Level;
  concurrency?: number;
  units: ResolvedUnit[];
}

/** A pre-flight check. */
export type ResolvedPreflight =
  | { kind: 'disk'; path: string; minFree: { bytes: number } | { multiple: number }; level: Level }
  | { kind: 'command'; argv: string[]; timeoutMs: number; level: Level }
  | { kind: 'reachable'; host: string; minFree?: { path: string; bytes: number }; level: Level }
  | { kind: 'idle'; units: string[]; host?: string; level: Level };

/** Options that come from the command line, resolved. */
export interface RunOptions {
  command: CommandName;
  /** How rearguard was invoked, for the lock holder and the report. */
  commandLine: string;
  dryRun: boolean;
  only: string[];
  skip: string[];
  jsonPath?: string;
  junitPath?: string;
  color: boolean;
  verbose: boolean;
  quiet: boolean;
  waitLockMs: number;
  interactive: boolean;
}

/** Everything a run needs, resolved once from YAML, CLI flags and the environment. */
export interface ResolvedConfig {
  file: string;
  dir: string;
  stateDir: string;
  defaults: {
    timeoutMs: number;
    killGraceMs: number;
    systemctl: string[];
    retryDelayMs: number;
    logMaxBytes: number;
    /** What a run does about processes a killed run left running: stop them, or refuse to start. */
    leftovers: 'stop' | 'refuse';
    /** Contain each unit in a cgroup where the kernel allows (false, or REARGUARD_NO_CGROUPS=1: process groups only). */
    cgroups: boolean;
  };
  /** Run folders kept in state_dir/runs: the newest `count`, none older than `maxAgeMs`. */
  keepRuns: { count: number; maxAgeMs: number };
  hosts: Record<string, ResolvedHost>;
  preflight: ResolvedPreflight[];
  stages: ResolvedStage[];
  gate: { maxFailureRatio: number };
  report: { json?: string; junit?: string };
  metrics: {
    pushgateway?: { url: string; job: string; labels: Record<string, string>; timeoutMs: number };
    textfile?: string;
  };
  notify: Array<{ url: string; on: Verdict[]; timeoutMs: number; retries: number }>;
  /** Problems found in the config's surroundings (a secret file others can read): every run reports them. */
  warnings: string[];
  /** The environment rearguard was started with; units inherit it. */
  env: Record<string, string>;
  options: RunOptions;
}

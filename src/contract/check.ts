// The check contract: what a check declares, what it is given, what it returns. checks/ and the engine meet here.
import type { KeyedFragment } from './config-fragment.js';
import type { CommandName, Level, ResolvedArtifact, ResolvedHost, ResolvedPreflight } from '../config/types.js';
import type { Exec } from '../exec/types.js';
import type { CheckStatus } from '../report/types.js';
import type { HistoryReader } from './history.js';
import type { BoundSource, LocatedBackup } from './source.js';

/**
 * What a step needs to run. The plan selects a step for an artifact only when its source and the
 * command provide every need: `content` only from sources whose bytes are a local file, `unit-start`
 * only when the command runs units, `host` only where hosts are configured, `restore` from sources
 * whose backup can be restored into a folder, `integrity` from sources whose tool checks its own repository.
 */
export type Need = 'facts' | 'history' | 'content' | 'unit-start' | 'host' | 'restore' | 'integrity';

/**
 * What a check may change or start: nothing; only a private scratch folder it removes itself; or
 * commands the config names (which may do anything). Audit runs only `read-only` checks.
 */
export type Effect = 'read-only' | 'scratch' | 'runs-commands';

/** Whether a failure stops the artifact's later checks: always, or only at level error. */
export type Stops = 'always' | 'at-error';

/** What a check returns; the engine adds id, target, level and timing. */
export interface CheckOutcome {
  /** Passed, failed, or nothing to check (e.g. first run with no history: passed with a note). */
  status: 'ok' | 'failed' | 'skipped';
  message: string;
  details?: string[];
  /** Facts later checks and the report use. */
  facts?: Partial<ArtifactFacts>;
}

/** Facts gathered about an artifact as its checks run. */
export interface ArtifactFacts {
  /** Where the backup is: a file path for file artifacts. */
  file: string;
  bytes: number;
  /** How many files the backup holds, where its source counts them. */
  files: number;
  /** When the backup was completed (a file's mtime). */
  mtimeMs: number;
  sha256: string;
  /**
   * One read of the artifact's archive, shared by the checks that each need it: the first to run fills it, the
   * others reuse it while `key` (which file, its size and mtime, what was asked of the read) still matches.
   */
  archivePass: { readonly key: string };
}

/** Everything a check may use; nothing more. */
export interface CheckContext<Options> {
  options: Options;
  command: CommandName;
  /** The run's id, e.g. for names of temp files that must not collide across runs. */
  runId: string;
  exec: Exec;
  signal: AbortSignal;
  /** Hosts from the config, for checks that go over SSH. */
  hosts: Record<string, ResolvedHost>;
  /** argv prefix of systemctl (defaults.systemctl), for checks that ask systemd. */
  systemctl: string[];
  /** Where the check may make scratch folders (removed by the check itself). */
  tempDir: string;
  /** Process environment units and commands inherit. */
  env: Record<string, string>;
  now: () => number;
}

/** The artifact a check looks at: what its source located, and what earlier checks learnt. */
export interface ArtifactTarget {
  unit: string;
  /** How the artifact is named in reports (a file glob for file artifacts). */
  pattern: string;
  /** The backup the source found, or undefined with `missing` saying why. */
  located?: LocatedBackup;
  missing?: string;
  /** When the unit started (commands that run units), for `fresh`. */
  unitStartedAt?: number;
  /** The unit's timeout, for checks that run commands. */
  unitTimeoutMs: number;
  facts: Partial<ArtifactFacts>;
  history: HistoryReader;
  /** The source's restore and verify, bound to the located backup (absent for sources without them). */
  source?: BoundSource;
}

/** A check's choice for one artifact: its options and level, or undefined when it does not apply. */
export type Selection<Options> = { options: Options; level: Level } | undefined;

/** An artifact check: a plain object the plan selects and the engine runs by its declarations. */
export interface ArtifactCheck<Options = unknown, Own = unknown> {
  id: string;
  phase: 'artifact' | 'offsite';
  needs: readonly Need[];
  effect: Effect;
  stops: Stops;
  /** The artifact config key this check owns (its schema and resolution); none for `exists`. */
  config?: KeyedFragment<Own>;
  /** Pure: whether it applies, given its own resolved key (if set), the artifact and the command. */
  select(own: Own | undefined, artifact: ResolvedArtifact, command: CommandName): Selection<Options>;
  /** Short description for `plan`. */
  describe(options: Options): string;
  run(ctx: CheckContext<Options>, target: ArtifactTarget): Promise<CheckOutcome>;
}

/** What a pre-flight check can ask of the size history. */
export interface PreflightHistory {
  largestRecentTotal(): Promise<number | undefined>;
}

/** A pre-flight check; `effect` tells read-only ones (audit runs those) from ones that run commands. */
export interface PreflightCheck<Item extends ResolvedPreflight = ResolvedPreflight> {
  id: Item['kind'];
  phase: 'preflight';
  effect: Exclude<Effect, 'scratch'>;
  describe(item: Item): string;
  run(ctx: CheckContext<Item> & { history: PreflightHistory }): Promise<CheckOutcome>;
}

export type { CheckStatus };

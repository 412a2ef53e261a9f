// The check contract: plain objects with a narrow context, listed in checks/registry.ts.
import type { CommandName, Level, ResolvedArtifact, ResolvedHost, ResolvedPreflight } from '../src/config/types.js';
import type { Exec } from '../src/exec/types.js';
import type { CheckStatus } from '../src/report/types.js';

/** What a check returns; the engine adds id, target, level and timing. */
export interface CheckOutcome {
  /** Passed, failed, or nothing to check (e.g. first run with no history: passed with a note). */
  status: 'ok' | 'failed' | 'skipped';
  message: string;
  details?: string[];
  /** Facts later checks and the report use: { file, bytes, sha256, mtimeMs }. */
  facts?: Partial<ArtifactFacts>;
}

/** Facts gathered about an artifact as its checks run. */
export interface ArtifactFacts {
  file: string;
  bytes: number;
  mtimeMs: number;
  sha256: string;
}

/** A size-history entry of one artifact (see src/state/history). */
export interface HistoryEntry {
  at: string;
  run_id: string;
  bytes: number;
  sha256?: string;
  file: string;
}

/** Read access to an artifact's verified size history. */
export interface HistoryReader {
  /** Most recent entries last; at most `limit`. */
  read(limit: number): Promise<HistoryEntry[]>;
}

/** Everything a check may use; nothing more. */
export interface CheckContext<Options> {
  options: Options;
  command: CommandName;
  /** The run's id, e.g. for names of temp files that must not collide across runs. */
  runId: string;
  exec: Exec;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Hosts from the config, for checks that go over SSH. */
  hosts: Record<string, ResolvedHost>;
  /** argv prefix of systemctl (defaults.systemctl), for checks that ask systemd. */
  systemctl?: string[];
  /** Where the check may make scratch folders (removed by the check itself). */
  tempDir: string;
  /** Process environment units and commands inherit. */
  env: Record<string, string>;
  now: () => number;
}

/** The artifact a check looks at, with what earlier checks learnt. */
export interface ArtifactTarget {
  unit: string;
  pattern: string;
  /** When the unit started (orchestrate), for `fresh`. */
  unitStartedAt?: number;
  /** The unit's timeout, for checks that run commands. */
  unitTimeoutMs: number;
  facts: Partial<ArtifactFacts>;
  history: HistoryReader;
}

/** An artifact check: `select` (pure) says whether it applies and with which options. */
export interface ArtifactCheck<Options = unknown> {
  id: string;
  phase: 'artifact';
  select(artifact: ResolvedArtifact, command: CommandName): { options: Options; level: Level } | undefined;
  /** Short description for `plan`. */
  describe(options: Options): string;
  run(ctx: CheckContext<Options>, target: ArtifactTarget): Promise<CheckOutcome>;
}

/** A pre-flight check. */
export interface PreflightCheck<Item extends ResolvedPreflight = ResolvedPreflight> {
  id: Item['kind'];
  phase: 'preflight';
  describe(item: Item): string;
  run(ctx: CheckContext<Item> & { history: { largestRecentTotal(): Promise<number | undefined> } }): Promise<CheckOutcome>;
}

export type { CheckStatus };

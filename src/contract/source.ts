// The artifact source contract: where a backup lives and how to find the one a unit's artifact means.
import type { Exec } from '../exec/types.js';
import type { Need } from './check.js';
import type * as z from './zod.js';
import type { ConfigFragment } from './config-fragment.js';

/** A backup a source found, with the facts every check needs. */
export interface LocatedBackup {
  /** Stable identity: a file path, a snapshot id. */
  id: string;
  /** Where it lives, for people and reports. */
  location: string;
  /** When it was completed, in ms since the epoch (a file's mtime). */
  completedAtMs: number;
  bytes: number;
  /** How many files the backup holds, where the source counts them (a mirror folder): judged against the history like bytes. */
  files?: number;
  /** A local file holding the backup's bytes, for checks that need `content`. */
  file?: string;
}

/** What locating found: the backup, or why there is none. */
export type Location = { found: true; backup: LocatedBackup } | { found: false; message: string };

/** What a source may use to locate, restore or verify a backup. */
export interface SourceContext<Options> {
  options: Options;
  exec: Exec;
  signal: AbortSignal;
  env: Record<string, string>;
  /** How long one of the tool's commands may run (the unit's timeout); sources default to 10 minutes. */
  timeoutMs?: number;
}

/** How much of the backed-up data a deep check reads: a share of it or a number of bytes. */
export type ReadDataSubset = { percent: number } | { bytes: number };

/** How deep `verify` goes: the tool's structural check, plus a sampled read of the data when asked. */
export interface VerifyDepth {
  readData?: ReadDataSubset;
}

/** What restoring or verifying through a source came to; `details` carries the tool's output tail. */
export interface SourceOutcome {
  ok: boolean;
  message: string;
  details?: string[];
}

/**
 * A kind of artifact (a file glob, a repository): plain object, one file each in sources/. A source that
 * lists `restore` in `provides` either implements `restore` or locates a local archive file (`content`);
 * one that lists `integrity` implements `verify`.
 */
export interface ArtifactSource<Options = unknown> {
  /** The kind, which is also the artifact's config key (`path:`, `restic:`). */
  kind: string;
  /** The schema of the config key and how it resolves to this source's options. */
  config: ConfigFragment<z.ZodMiniType, Options>;
  /** Needs beyond facts and history that this source satisfies (`content` for local files). */
  provides: readonly Need[];
  /** How the artifact is named in plans and reports. */
  name(options: Options): string;
  /** Local files holding secrets this artifact reads (password files): refused when others can change them, a warning when others can read them. */
  secretFiles?(options: Options): string[];
  locate(ctx: SourceContext<Options>): Promise<Location>;
  /**
   * Restores `backup` (all of it, or only the `include` paths) into `dir`, an empty private folder the
   * caller made and removes. Never throws for a failed restore: it says why in the outcome.
   */
  restore?(ctx: SourceContext<Options>, backup: LocatedBackup, dir: string, include: readonly string[]): Promise<SourceOutcome>;
  /** Runs the tool's own check of the repository holding `backup`, reading data as deep as `depth` says. */
  verify?(ctx: SourceContext<Options>, backup: LocatedBackup, depth: VerifyDepth): Promise<SourceOutcome>;
}

/** A source's capabilities bound to the located backup, as the engine hands them to checks. */
export interface BoundSource {
  restore?: (dir: string, include: readonly string[]) => Promise<SourceOutcome>;
  verify?: (depth: VerifyDepth) => Promise<SourceOutcome>;
}

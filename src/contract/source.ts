// The artifact source contract: where a backup lives and how to find the one a unit's artifact means.
import type { Exec } from '../exec/types.js';
import type { Need } from './check.js';

/** A backup a source found, with the facts every check needs. */
export interface LocatedBackup {
  /** Stable identity: a file path, a snapshot id. */
  id: string;
  /** Where it lives, for people and reports. */
  location: string;
  /** When it was completed, in ms since the epoch (a file's mtime). */
  completedAtMs: number;
  bytes: number;
  /** A local file holding the backup's bytes, for checks that need `content`. */
  file?: string;
}

/** What locating found: the backup, or why there is none. */
export type Location = { found: true; backup: LocatedBackup } | { found: false; message: string };

/** What a source may use to locate a backup. */
export interface SourceContext<Options> {
  options: Options;
  exec: Exec;
  signal: AbortSignal;
  env: Record<string, string>;
}

/** A kind of artifact (a file glob; later repositories): plain object, one file each in sources/. */
export interface ArtifactSource<Options = unknown> {
  kind: string;
  /** Needs beyond facts and history that this source satisfies (`content` for local files). */
  provides: readonly Need[];
  /** How the artifact is named in plans and reports. */
  name(options: Options): string;
  locate(ctx: SourceContext<Options>): Promise<Location>;
}

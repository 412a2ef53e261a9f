// What one shared read of an archive must deliver, decided from the artifact's config when the plan is made (pure).
import type { CommandName, ResolvedArtifact } from '../../src/config/types.js';
import type { RestoreOptions } from './run-rules.js';

/** The commands that restore backups (verify stays quick and never restores). */
export const RESTORE_COMMANDS: ReadonlySet<CommandName> = new Set(['orchestrate', 'restore-test']);

/**
 * What the one read of an archive computes besides its entry list: the archive's own sha256 (for `checksum`)
 * and the restore with its rules (for `restore`). Every check of the artifact gets the same spec, so whichever
 * runs first reads for all.
 */
export interface ArchivePassSpec {
  sha256: boolean;
  restore?: RestoreOptions;
}

/**
 * The spec shared by `checksum`, `archive` and `restore` of `artifact` under `command`, or undefined when fewer
 * than two of them run there (a check alone reads for itself only).
 */
export function planArchivePass(artifact: ResolvedArtifact, command: CommandName): ArchivePassSpec | undefined {
  const checksum = artifact.options.checksum !== undefined;
  const archive = artifact.options.archive !== undefined;
  const restoreOwn = RESTORE_COMMANDS.has(command) ? (artifact.options.restore as (RestoreOptions & { level: unknown }) | undefined) : undefined;
  if (Number(checksum) + Number(archive) + Number(restoreOwn !== undefined) < 2) return undefined;
  if (restoreOwn === undefined) return { sha256: checksum };
  const { level: _level, ...rules } = restoreOwn;
  return { sha256: checksum, restore: rules };
}

// restore: restore the backup into a fresh private scratch folder, check the tree, always remove it.
import type { ArtifactCheck, CheckOutcome } from '../src/contract/check.js';
import { restoreArchive } from './restore/archive-restore.js';
import type { RestoreOptions } from './restore/run-rules.js';
import { restoreThroughSource } from './restore/source-restore.js';

function describeRules(options: RestoreOptions): string[] {
  const rules: string[] = [];
  if (options.sqlite) rules.push(`sqlite ${options.sqlite}`);
  if (options.gzip) rules.push(`gzip ${options.gzip}`);
  if (options.json) rules.push(`json ${options.json}`);
  if (options.sha256sums) rules.push(`sha256sums ${options.sha256sums}`);
  if (options.command) rules.push(`command ${options.command.join(' ')}`);
  return rules;
}

/**
 * Proves the backup restores: the only check that writes, and only inside its own scratch folder. A
 * source that restores its own backups (a repository) does so; otherwise the backup is a local archive.
 */
export const restoreCheck: ArtifactCheck<RestoreOptions> = {
  id: 'restore',
  phase: 'artifact',
  needs: ['restore'],
  effect: 'scratch',
  stops: 'at-error',
  // orchestrate and restore-test only: verify stays quick.
  select: (artifact, command) => {
    if (!artifact.restore || (command !== 'orchestrate' && command !== 'restore-test')) return undefined;
    const { level, ...options } = artifact.restore;
    return { options, level };
  },
  describe: (options) => {
    const rules = describeRules(options);
    const what = options.include && options.include.length > 0 ? `restore ${options.include.join(', ')}` : 'extract';
    return `${what} into private scratch${rules.length > 0 ? `; ${rules.join(', ')}` : ''}`;
  },
  async run(ctx, target): Promise<CheckOutcome> {
    const restore = target.source?.restore;
    return restore ? restoreThroughSource(ctx, target, restore) : restoreArchive(ctx, target);
  },
};

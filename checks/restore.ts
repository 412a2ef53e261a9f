// restore: restore the backup into a fresh private scratch folder, check the tree, always remove it.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { argvSchema, levelSchema, textSchema } from '../src/contract/schema-parts.js';
import type { ArtifactCheck, CheckOutcome } from '../src/contract/check.js';
import { planArchivePass, RESTORE_COMMANDS, type ArchivePassSpec } from './restore/pass-spec.js';
import type { RestoreOptions } from './restore/run-rules.js';

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
const restoreKey = defineKey(
  'restore',
  z.strictObject({
    sqlite: z.optional(textSchema).check(z.describe('Glob of SQLite files in the restored tree; each must pass integrity_check.')),
    gzip: z.optional(textSchema).check(z.describe('Glob of gzip files in the restored tree; each must decompress to its end.')),
    json: z.optional(textSchema).check(z.describe('Glob of JSON files in the restored tree; each must parse.')),
    sha256sums: z.optional(textSchema).check(z.describe('A sha256sum-format list inside the archive; every entry must match.')),
    command: z.optional(argvSchema).check(z.describe('Run with the restored tree as cwd; exit 0 passes.')),
    scratch: z.optional(textSchema).check(z.describe('Where scratch folders are made (default: the system temp dir).')),
    include: z.optional(z.array(textSchema).check(z.minLength(1))).check(z.describe('Repository backups: restore only these paths.')),
    level: z.optional(levelSchema),
  }),
  (raw, ctx): RestoreOptions & { level: Level } => {
    const { level, scratch, ...rules } = raw;
    return { ...rules, ...(scratch && { scratch: ctx.resolvePath(scratch) }), level: level ?? ctx.level };
  },
);

/** The check's options: its rules, and the read it shares with checksum and archive when they run too. */
type RestoreCheckOptions = RestoreOptions & { pass?: ArchivePassSpec };

export const restoreCheck: ArtifactCheck<RestoreCheckOptions, RestoreOptions & { level: Level }> = {
  id: 'restore',
  phase: 'artifact',
  needs: ['restore'],
  effect: 'scratch',
  stops: 'at-error',
  // orchestrate and restore-test only: verify stays quick.
  config: restoreKey,
  select: (own, artifact, command) => {
    if (!own || !RESTORE_COMMANDS.has(command)) return undefined;
    const { level, ...options } = own;
    const pass = planArchivePass(artifact, command);
    return { options: { ...options, ...(pass && { pass }) }, level };
  },
  describe: (options) => {
    const rules = describeRules(options);
    const what = options.include && options.include.length > 0 ? `restore ${options.include.join(', ')}` : 'extract';
    return `${what} into private scratch${rules.length > 0 ? `; ${rules.join(', ')}` : ''}`;
  },
  async run(ctx, target): Promise<CheckOutcome> {
    // The restore code (tar, decompression, scratch) loads with the first restore, not with every config.
    const restore = target.source?.restore;
    if (restore) {
      const { restoreThroughSource } = await import('./restore/source-restore.js');
      return restoreThroughSource(ctx, target, restore);
    }
    const { restoreArchive } = await import('./restore/archive-restore.js');
    return restoreArchive(ctx, target);
  },
};

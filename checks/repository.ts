// repository: the backup tool's own check of the repository holding the backup, with an optional sampled read of the data.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelSchema, parsePercent, percentSchema, sizeSchema } from '../src/contract/schema-parts.js';
import type { ArtifactCheck } from '../src/contract/check.js';
import type { ReadDataSubset, VerifyDepth } from '../src/contract/source.js';
import { formatBytes, parseSize } from '../src/util/size.js';

/** The resolved `check:` key of an artifact: how deep to go, and the level of a failure. */
export interface RepositoryCheckConfig {
  depth: VerifyDepth;
  level: Level;
}


/** "5% of the data", "100.0 MiB of the data": a read-data subset for people. */
export function describeSubset(subset: ReadDataSubset): string {
  return 'percent' in subset ? `${subset.percent}% of the data` : `${formatBytes(subset.bytes)} of the data`;
}

/** Catches a repository the tool itself finds damaged: missing or corrupt packs, segments, indexes. */
const checkKey = defineKey(
  'check',
  z
    .union([
      z.literal(true),
      z.strictObject({
        read_data: z
          .optional(z.union([percentSchema, sizeSchema]))
          .check(z.describe('Also read this much of the stored data ("5%", "100MiB"), where the tool offers a sampled read.')),
        level: z.optional(levelSchema),
      }),
    ])
    .check(z.describe("Run the backup tool's own check of the repository (restic check, borg check, pgbackrest verify).")),
  (raw, ctx): RepositoryCheckConfig => {
    const readData = raw === true ? undefined : raw.read_data;
    const depth: VerifyDepth =
      readData === undefined
        ? {}
        : { readData: typeof readData === 'string' && readData.endsWith('%') ? { percent: parsePercent(readData)! } : { bytes: parseSize(readData) } };
    return { depth, level: raw === true ? ctx.level : (raw.level ?? ctx.level) };
  },
);

export const repositoryCheck: ArtifactCheck<VerifyDepth, RepositoryCheckConfig> = {
  id: 'repository',
  phase: 'artifact',
  needs: ['integrity'],
  // The tools take only shared locks and read; audit still leaves it out, since it needs more than facts.
  effect: 'read-only',
  stops: 'at-error',
  config: checkKey,
  select: (own) => (own ? { options: own.depth, level: own.level } : undefined),
  describe: (depth) => `the tool's own repository check${depth.readData ? `, reading ${describeSubset(depth.readData)}` : ''}`,
  async run(ctx, target) {
    const verify = target.source?.verify;
    if (!verify) return { status: 'failed', message: `${target.located?.location ?? target.pattern} has no repository to check` };
    const outcome = await verify(ctx.options);
    if (ctx.signal.aborted) return { status: 'failed', message: 'repository check stopped: the run was aborted' };
    return { status: outcome.ok ? 'ok' : 'failed', message: outcome.message, ...(outcome.details && outcome.details.length > 0 && { details: outcome.details }) };
  },
};

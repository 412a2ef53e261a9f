// The ZFS source: the newest snapshot of a dataset (or of each dataset below it), proven sendable and restorable by clone.
import { lastLine } from '../src/util/tail.js';
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource } from '../src/contract/source.js';
import { describeFailure, succeeded } from '../src/exec/types.js';
import { describeDataset, runZfs, snapshotQuery, type ZfsOptions } from './zfs/command.js';
import { parseNewestSnapshots } from './zfs/snapshots.js';

export type { ZfsOptions } from './zfs/command.js';

const schema = z
  .strictObject({
    dataset: textSchema.check(z.regex(/^[^@\s]+$/, 'a dataset name like "tank/db", without @snapshot'), z.describe('The dataset whose newest snapshot is checked.')),
    recursive: z.optional(z.boolean()).check(z.describe('Every dataset below it too; each must have a snapshot.')),
    host: z.optional(textSchema).check(z.describe('Run zfs on this host from `hosts` (e.g. the replication target).')),
  })
  .check(z.describe('A ZFS dataset: its newest snapshot.'));

/**
 * `zfs:` artifacts. The backup is the newest snapshot of each dataset; its completion time is the
 * oldest of those (so one dataset left behind fails `fresh`), its size what they refer to in total.
 */
export const zfsSource: ArtifactSource<ZfsOptions> = {
  kind: 'zfs',
  config: defineFragment(schema, (raw): ZfsOptions => raw),
  provides: ['restore', 'integrity'],
  name: (options) => describeDataset(options),
  async locate(ctx) {
    const where = describeDataset(ctx.options);
    const result = await runZfs(ctx, snapshotQuery(ctx.options));
    if (!succeeded(result)) {
      const hint = result.startError === undefined ? `: ${lastLine(result.output)}; check the dataset name and that the pool is imported` : '';
      return { found: false, message: `listing the snapshots of ${where} failed (${describeFailure(result, 'its time limit')})${hint}` };
    }
    const { newest, without } = parseNewestSnapshots(result.output, ctx.options.recursive ? undefined : ctx.options.dataset);
    if (without.length > 0 && !ctx.options.recursive) return { found: false, message: `${where} has no snapshot yet: run the snapshot job` };
    if (without.length > 0) {
      return { found: false, message: `${without.length} dataset(s) of ${where} have no snapshot: ${without.slice(0, 5).join(', ')}; the snapshot job did not cover them` };
    }
    if (newest.length === 0) return { found: false, message: `zfs lists no dataset ${ctx.options.dataset}` };
    const oldest = newest.reduce((a, b) => (b.creation < a.creation ? b : a));
    const id = newest.map((snapshot) => snapshot.name).join(' ');
    return {
      found: true,
      backup: {
        id,
        location: newest.length === 1 ? `${newest[0]!.name}${ctx.options.host !== undefined ? ` on ${ctx.options.host}` : ''}` : `${where}: ${newest.length} snapshots, oldest ${oldest.name}`,
        completedAtMs: oldest.creation * 1000,
        bytes: newest.reduce((sum, snapshot) => sum + snapshot.referenced, 0),
      },
    };
  },
  // The send proof and the clone load when a run first uses them.
  verify: async (ctx, backup) => (await import('./zfs/send.js')).proveSendable(ctx, backup),
  restore: async (ctx, backup, dir, include) => (await import('./zfs/clone.js')).restoreByClone(ctx, backup, dir, include),
};

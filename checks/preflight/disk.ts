// Pre-flight disk: enough free space (statfs) at a path, absolute or a multiple of recent backups.
import { statfs } from 'node:fs/promises';
import { formatBytes } from '../../src/util/size.js';
import type { PreflightCheck } from '../../src/contract/check.js';

type DiskItem = Extract<import('../../src/config/types.js').ResolvedPreflight, { kind: 'disk' }>;

/** Fails when the filesystem holding `path` has less than `min_free` available to this user. */
export const diskCheck: PreflightCheck<DiskItem> = {
  id: 'disk',
  phase: 'preflight',
  effect: 'read-only',
  describe: (item) =>
    'bytes' in item.minFree ? `${item.path}: at least ${formatBytes(item.minFree.bytes)} free` : `${item.path}: ${item.minFree.multiple}x the largest recent backup free`,
  async run(ctx) {
    const item = ctx.options;
    let free: number;
    try {
      const info = await statfs(item.path, { bigint: true });
      free = Number(info.bavail * info.bsize);
    } catch (error) {
      return { status: 'failed', message: `cannot read free space of ${item.path}: ${(error as Error).message}` };
    }
    let needed: number;
    let why = 'min_free';
    if ('bytes' in item.minFree) needed = item.minFree.bytes;
    else {
      const largest = await ctx.history.largestRecentTotal();
      if (largest === undefined) {
        return { status: 'skipped', message: `${formatBytes(free)} free; no backup history yet to compare ${item.minFree.multiple}x against` };
      }
      needed = multiplyBytes(largest, item.minFree.multiple);
      why = `${item.minFree.multiple}x the largest recent backup total ${formatBytes(largest)}`;
    }
    if (free < needed) {
      return { status: 'failed', message: `${item.path}: ${formatBytes(free)} free, need at least ${formatBytes(needed)} (${why}): free some space first` };
    }
    return { status: 'ok', message: `${item.path}: ${formatBytes(free)} free (need ${formatBytes(needed)}, ${why})` };
  },
};

/** bytes × a multiple like 2 or 1.5, rounded up, in integer arithmetic (no float drift on large totals). */
export function multiplyBytes(bytes: number, multiple: number): number {
  const scaled = BigInt(Math.round(multiple * 1000));
  const product = (BigInt(bytes) * scaled + 999n) / 1000n;
  return product > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(product);
}

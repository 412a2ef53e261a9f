// Whether the pools holding the snapshots know of damage: `zpool status -v` (state and the errors line), as zfs-fuse and OpenZFS both print it.
import type { SourceContext, SourceOutcome } from '../../src/contract/source.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { lastLine } from '../../src/util/tail.js';
import { runZpool, type ZfsOptions } from './command.js';

const SHOWN_LINES = 12;

/** What `zpool status -v <pool>` says: the pool's state, its errors line, and the lines after it (damaged files). */
export function parsePoolStatus(output: string): { state?: string; errors?: string; damaged: string[] } {
  const lines = output.split('\n');
  const state = /^\s*state:\s*(\S+)/m.exec(output)?.[1];
  const at = lines.findIndex((line) => /^\s*errors:/.test(line));
  const errors = at < 0 ? undefined : lines[at]!.replace(/^\s*errors:\s*/, '').trim();
  const damaged = at < 0 ? [] : lines.slice(at + 1).map((line) => line.trim()).filter(Boolean);
  return { ...(state !== undefined && { state }), ...(errors !== undefined && { errors }), damaged };
}

/** Fails when a pool of `snapshots` is not ONLINE or knows of data errors (found by a read or a scrub). */
export async function checkPoolHealth(ctx: SourceContext<ZfsOptions>, snapshots: string[]): Promise<SourceOutcome | undefined> {
  const pools = [...new Set(snapshots.map((snapshot) => snapshot.split(/[/@]/)[0]!))];
  for (const pool of pools) {
    const result = await runZpool(ctx, ['status', '-v', pool]);
    if (!succeeded(result)) return { ok: false, message: `zpool status ${pool} failed (${describeFailure(result, 'its time limit')}): ${lastLine(result.output)}` };
    const status = parsePoolStatus(result.output);
    if (status.state === undefined || status.errors === undefined) {
      return { ok: false, message: `zpool status ${pool} printed no state or errors line; cannot tell whether the pool is sound`, details: [lastLine(result.output)] };
    }
    const healthy = status.state === 'ONLINE' && /^No known data errors/i.test(status.errors);
    if (!healthy) {
      return {
        ok: false,
        message: `pool ${pool} is ${status.state} and reports: ${status.errors.replace(/:$/, '')}${describeDamaged(status.damaged)}; the snapshots on it may not be readable: restore the damaged files from another copy (zpool status -v ${pool}), then zpool clear and scrub`,
        details: status.damaged.slice(0, SHOWN_LINES),
      };
    }
  }
  return undefined;
}

function describeDamaged(damaged: string[]): string {
  if (damaged.length === 0) return '';
  return ` (${damaged[0]}${damaged.length > 1 ? ` and ${damaged.length - 1} more` : ''})`;
}

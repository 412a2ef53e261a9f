// Proves each newest snapshot can be sent from a pool that knows of no damage: OpenZFS's dry-run estimate, or a full send discarded where -n is unknown.
import type { LocatedBackup, SourceContext, SourceOutcome } from '../../src/contract/source.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { lastLine, lastLines } from '../../src/util/tail.js';
import { describeDataset, runZfs, type ZfsOptions } from './command.js';
import { checkPoolHealth } from './pool-health.js';

/** Reads the total of `zfs send -nvP` ("size\t<bytes>"), or undefined. */
export function parseSendEstimate(output: string): number | undefined {
  const match = /^size\s+(\d+)\s*$/m.exec(output);
  return match ? Number(match[1]) : undefined;
}

/** Sends each snapshot named in the backup's id (one per dataset) and says how much would go over the wire. */
export async function proveSendable(ctx: SourceContext<ZfsOptions>, backup: LocatedBackup): Promise<SourceOutcome> {
  const snapshots = backup.id.split(' ');
  // A pool that knows of damage (a read or a scrub found it) fails first: OpenZFS's dry run reads no data.
  const unhealthy = await checkPoolHealth(ctx, snapshots);
  if (unhealthy) return unhealthy;
  const lines: string[] = [];
  for (const snapshot of snapshots) {
    const estimate = await runZfs(ctx, ['send', '-nvP', snapshot]);
    if (succeeded(estimate)) {
      const bytes = parseSendEstimate(estimate.output);
      if (bytes === undefined || bytes === 0) return { ok: false, message: `zfs send -nvP ${snapshot} estimated no stream size: the snapshot cannot be proven sendable`, details: [lastLines(estimate.output, 3).join(' ')] };
      lines.push(`${snapshot}: ${bytes} bytes estimated`);
      continue;
    }
    // Older implementations (zfs-fuse) know no dry run: the stream itself is read to the end and dropped.
    if (!/invalid option/i.test(estimate.output)) {
      return { ok: false, message: `zfs send -nvP ${snapshot} failed (${describeFailure(estimate, 'its time limit')}): ${lastLine(estimate.output)}` };
    }
    const sent = await runZfs(ctx, ['send', snapshot], { maxCaptureBytes: 256 });
    if (!succeeded(sent)) {
      return { ok: false, message: `zfs send ${snapshot} failed (${describeFailure(sent, 'its time limit')}): ${lastLine(sent.output)}: the snapshot cannot be replicated` };
    }
    lines.push(`${snapshot}: sent in full and discarded`);
  }
  return { ok: true, message: `${describeDataset(ctx.options)}: ${snapshots.length} snapshot(s) can be sent`, details: lines };
}

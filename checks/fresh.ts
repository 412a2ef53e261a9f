// fresh: when units run, the artifact must have been written by this run's unit.
import * as z from '../src/contract/zod.js';
import { defineKey } from '../src/contract/config-fragment.js';
import type { ArtifactCheck } from '../src/contract/check.js';
import { describeFutureMtime } from '../src/util/future-mtime.js';

/** A unit that "succeeds" without writing its artifact fails here. */
export const freshCheck: ArtifactCheck<Record<string, never>, boolean> = {
  id: 'fresh',
  phase: 'artifact',
  needs: ['facts', 'unit-start'],
  effect: 'read-only',
  stops: 'at-error',
  config: defineKey('fresh', z.boolean().check(z.describe('orchestrate: the file must be written by this run (default true).')), (raw) => raw),
  select: (own, artifact) => (own !== false ? { options: {}, level: artifact.level } : undefined),
  describe: () => 'written by this run',
  async run(ctx, target) {
    const { mtimeMs, file } = target.facts;
    if (mtimeMs === undefined || target.unitStartedAt === undefined) {
      return { status: 'failed', message: 'cannot tell when the artifact was written' };
    }
    // A file dated in the future is "after the start" whenever the unit ran: it proves nothing.
    const future = describeFutureMtime(file ?? target.pattern, mtimeMs, ctx.now());
    if (future) return { status: 'failed', message: `${future}; it cannot show that this run wrote it` };
    // Whole seconds: some filesystems (NFS, FAT, SMB) keep coarse mtimes.
    const startSecond = Math.floor(target.unitStartedAt / 1000) * 1000;
    if (mtimeMs >= startSecond) return { status: 'ok', message: `written at ${new Date(mtimeMs).toISOString()}` };
    return {
      status: 'failed',
      message: `${file} was last written at ${new Date(mtimeMs).toISOString()}, before the unit started at ${new Date(target.unitStartedAt).toISOString()}: the unit did not produce a new backup`,
    };
  },
};

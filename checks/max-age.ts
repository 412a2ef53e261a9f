// max_age: outside orchestrate, the newest match must be younger than the limit (backups made by timers).
import * as z from '../src/contract/zod.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { durationSchema } from '../src/contract/schema-parts.js';
import { formatDuration, parseDuration } from '../src/util/duration.js';
import { describeFutureMtime } from '../src/util/future-mtime.js';
import type { ArtifactCheck } from '../src/contract/check.js';

/** Catches timers that silently stopped making backups. */
export const maxAgeCheck: ArtifactCheck<{ maxAgeMs: number }, { maxAgeMs: number }> = {
  id: 'max_age',
  phase: 'artifact',
  needs: ['facts'],
  effect: 'read-only',
  stops: 'at-error',
  config: defineKey('max_age', durationSchema.check(z.describe('verify/audit/restore-test: the newest match must be younger than this.')), (raw) => ({
    maxAgeMs: parseDuration(raw),
  })),
  select: (own, artifact, command) =>
    own && (command === 'verify' || command === 'audit' || command === 'restore-test') ? { options: own, level: artifact.level } : undefined,
  describe: (options) => `newest match younger than ${formatDuration(options.maxAgeMs)}`,
  async run(ctx, target) {
    const { mtimeMs, file } = target.facts;
    if (mtimeMs === undefined) return { status: 'failed', message: 'cannot tell when the artifact was written' };
    const now = ctx.now();
    const age = now - mtimeMs;
    const written = new Date(mtimeMs).toISOString();
    const future = describeFutureMtime(file ?? target.pattern, mtimeMs, now);
    if (future) return { status: 'failed', message: future };
    const limit = formatDuration(ctx.options.maxAgeMs);
    if (age > ctx.options.maxAgeMs) {
      return {
        status: 'failed',
        message: `${file} is ${formatDuration(age)} old (written at ${written}), older than max_age ${limit}: the backup that should have replaced it was not made`,
      };
    }
    return { status: 'ok', message: `${formatDuration(Math.max(0, age))} old (max_age ${limit})` };
  },
};

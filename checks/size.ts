// size: at least `min` bytes (history bounds are added by the size-history work).
import { formatBytes } from '../src/util/size.js';
import type { ResolvedArtifact } from '../src/config/types.js';
import type { ArtifactCheck } from './types.js';

type SizeOptions = NonNullable<ResolvedArtifact['size']>;

/** Catches zero-byte and suspiciously small dumps. */
export const sizeCheck: ArtifactCheck<SizeOptions> = {
  id: 'size',
  phase: 'artifact',
  select: (artifact) => (artifact.size ? { options: artifact.size, level: artifact.size.level } : undefined),
  describe: (options) => (options.minBytes !== undefined ? `at least ${formatBytes(options.minBytes)}` : 'size within history bounds'),
  async run(ctx, target) {
    const bytes = target.facts.bytes;
    if (bytes === undefined) return { status: 'failed', message: 'size unknown' };
    if (ctx.options.minBytes !== undefined && bytes < ctx.options.minBytes) {
      return {
        status: 'failed',
        message: `${formatBytes(bytes)} (${bytes} bytes) is below the minimum ${formatBytes(ctx.options.minBytes)} (${ctx.options.minBytes} bytes)`,
      };
    }
    return { status: 'ok', message: `${formatBytes(bytes)} (${bytes} bytes)` };
  },
};

// size: at least `min` bytes, and within max_shrink / max_growth of the median of the last `window` verified sizes.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelSchema, parsePercent, percentSchema, sizeSchema } from '../src/contract/schema-parts.js';
import type { ArtifactCheck, CheckOutcome } from '../src/contract/check.js';
import { HistoryUnreadableError, type HistoryEntry } from '../src/contract/history.js';
import { describeBytes, formatBytes, parseSize } from '../src/util/size.js';
import { compareWithBaseline, computeBaseline, entriesBefore, percentChange, type SizeBaseline } from './size/baseline.js';

/** The size rule of an artifact, in whole bytes and percent. */
export interface SizeOptions {
  minBytes?: number;
  maxShrinkPct?: number;
  maxGrowthPct?: number;
  window: number;
  level: Level;
}

const sizeKey = defineKey(
  'size',
  z.strictObject({
    min: z.optional(sizeSchema),
    max_shrink: z.optional(percentSchema),
    max_growth: z.optional(percentSchema),
    window: z.optional(z.int().check(z.gte(1), z.lte(100))),
    level: z.optional(levelSchema),
  }),
  (raw, ctx): SizeOptions => {
    const maxShrinkPct = parsePercent(raw.max_shrink);
    const maxGrowthPct = parsePercent(raw.max_growth);
    return {
      ...(raw.min !== undefined && { minBytes: parseSize(raw.min) }),
      ...(maxShrinkPct !== undefined && { maxShrinkPct }),
      ...(maxGrowthPct !== undefined && { maxGrowthPct }),
      window: raw.window ?? 14,
      level: raw.level ?? ctx.level,
    };
  },
);

/** The allowed range of a baseline for people: "between 5.0 MiB and 40.0 MiB". */
export function describeRange(baseline: SizeBaseline): string {
  const low = baseline.lowest !== undefined ? describeBytes(baseline.lowest) : undefined;
  const high = baseline.highest !== undefined ? describeBytes(baseline.highest) : undefined;
  if (low && high) return `between ${low} and ${high}`;
  if (low) return `at least ${low}`;
  if (high) return `at most ${high}`;
  return 'any size (no max_shrink or max_growth set)';
}

/**
 * Judges a size against `min` and the history (pure; integer arithmetic only). `history` is every
 * verified entry before this artifact, oldest first.
 */
export function evaluateSize(bytes: number, options: SizeOptions, history: HistoryEntry[]): CheckOutcome {
  const size = describeBytes(bytes);
  if (options.minBytes !== undefined && bytes < options.minBytes) {
    return { status: 'failed', message: `${size} is below the minimum ${describeBytes(options.minBytes)}` };
  }
  const bounded = options.maxShrinkPct !== undefined || options.maxGrowthPct !== undefined;
  if (!bounded) return { status: 'ok', message: size };
  const baseline = computeBaseline(history, options);
  if (!baseline) {
    return { status: 'ok', message: `${size}; no size history yet: max_shrink/max_growth are checked from the next verified run on` };
  }
  const against = `median ${describeBytes(baseline.median)} of the last ${baseline.count} verified size(s) (window ${baseline.window})`;
  const change = percentChange(bytes, baseline.median);
  switch (compareWithBaseline(bytes, baseline)) {
    case 'shrunk':
      return {
        status: 'failed',
        message: `${size} shrank ${change.slice(1)} against the ${against}; max_shrink is ${options.maxShrinkPct}%, so at least ${describeBytes(baseline.lowest!)} was expected: check that the backup is complete`,
      };
    case 'grown':
      return {
        status: 'failed',
        message: `${size} grew ${change.slice(1)} against the ${against}; max_growth is ${options.maxGrowthPct}%, so at most ${describeBytes(baseline.highest!)} was expected: check what was added to the backup`,
      };
    default:
      return { status: 'ok', message: `${size}, ${change} against the ${against}; allowed ${describeRange(baseline)}` };
  }
}

/**
 * Judges a file count (a mirror folder's) with the same median rule as bytes (pure): the history's entries
 * that recorded a count, within max_shrink / max_growth. Undefined when there is nothing to judge it against.
 */
export function evaluateFileCount(files: number, options: SizeOptions, history: HistoryEntry[]): CheckOutcome | undefined {
  if (options.maxShrinkPct === undefined && options.maxGrowthPct === undefined) return undefined;
  const counted = history.flatMap((entry) => (entry.files !== undefined ? [{ ...entry, bytes: entry.files }] : []));
  const baseline = computeBaseline(counted, options);
  if (!baseline) return undefined;
  const against = `median ${baseline.median} file(s) of the last ${baseline.count} verified count(s) (window ${baseline.window})`;
  const change = percentChange(files, baseline.median);
  switch (compareWithBaseline(files, baseline)) {
    case 'shrunk':
      return {
        status: 'failed',
        message: `${files} file(s): the count shrank ${change.slice(1)} against the ${against}; max_shrink is ${options.maxShrinkPct}%, so at least ${baseline.lowest} were expected: check that the copy is complete`,
      };
    case 'grown':
      return {
        status: 'failed',
        message: `${files} file(s): the count grew ${change.slice(1)} against the ${against}; max_growth is ${options.maxGrowthPct}%, so at most ${baseline.highest} were expected: check what was added`,
      };
    default:
      return { status: 'ok', message: `${files} file(s), ${change} against the ${against}` };
  }
}

/** Bytes, then (where the source counts files) the file count: the first failure, else both messages. */
function evaluateBoth(bytes: number, files: number | undefined, options: SizeOptions, history: HistoryEntry[]): CheckOutcome {
  const size = evaluateSize(bytes, options, history);
  if (size.status === 'failed' || files === undefined) return size;
  const count = evaluateFileCount(files, options, history);
  if (!count) return size;
  return count.status === 'failed' ? count : { status: 'ok', message: `${size.message}; ${count.message}` };
}

/** Catches zero-byte and suspiciously small dumps, and sudden shrinking or growth against the history. */
export const sizeCheck: ArtifactCheck<SizeOptions, SizeOptions> = {
  id: 'size',
  phase: 'artifact',
  needs: ['facts', 'history'],
  effect: 'read-only',
  stops: 'at-error',
  config: sizeKey,
  select: (own) => (own ? { options: own, level: own.level } : undefined),
  describe: (options) => {
    const parts: string[] = [];
    if (options.minBytes !== undefined) parts.push(`at least ${formatBytes(options.minBytes)}`);
    if (options.maxShrinkPct !== undefined) parts.push(`shrinks at most ${options.maxShrinkPct}%`);
    if (options.maxGrowthPct !== undefined) parts.push(`grows at most ${options.maxGrowthPct}%`);
    if (options.maxShrinkPct !== undefined || options.maxGrowthPct !== undefined) parts.push(`against the median of the last ${options.window}`);
    return parts.length > 0 ? parts.join(', ') : 'size recorded';
  },
  async run(ctx, target) {
    const bytes = target.facts.bytes;
    if (bytes === undefined) return { status: 'failed', message: 'size unknown: the exists check did not run' };
    const bounded = ctx.options.maxShrinkPct !== undefined || ctx.options.maxGrowthPct !== undefined;
    let history: HistoryEntry[] = [];
    if (bounded) {
      try {
        // One extra entry: when this very artifact is already recorded (a re-check), it is left out.
        history = entriesBefore(await target.history.read(ctx.options.window + 1), target.facts);
      } catch (error) {
        if (!(error instanceof HistoryUnreadableError)) throw error;
        const outcome = evaluateSize(bytes, ctx.options, []);
        if (outcome.status === 'failed') return outcome;
        return {
          status: 'ok',
          message: `${describeBytes(bytes)}; size bounds not checked: ${error.message}; it is set aside as <file>.corrupt-<time> when the next verified size is recorded`,
        };
      }
    }
    return evaluateBoth(bytes, target.facts.files, ctx.options, history);
  },
};

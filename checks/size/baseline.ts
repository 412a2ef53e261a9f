// The size rule's arithmetic (pure, integers only): the median of recent verified sizes and the allowed band.
import { isSameBackup, type HistoryEntry } from '../../src/contract/history.js';

/** Size bounds in force for the next artifact: the median of the window and the allowed range, in whole bytes. */
export interface SizeBaseline {
  /** Entries the median was taken over (at most `window`). */
  count: number;
  window: number;
  median: number;
  /** Smallest size that passes max_shrink (undefined: no lower bound from history). */
  lowest?: number;
  /** Largest size that passes max_growth (undefined: no upper bound from history). */
  highest?: number;
}

// Percentages are carried as integers in millionths of 100%, so "12.5%" stays exact and nothing goes through a float.
const PCT_SCALE = 1_000_000n;
function pctUnits(pct: number): bigint {
  return BigInt(Math.round(pct * 10_000));
}

/** The median of whole byte counts (the lower-middle mean, rounded down, for an even count). */
export function medianBytes(sizes: number[]): number | undefined {
  if (sizes.length === 0) return undefined;
  const sorted = sizes.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2n;
  return Number(value);
}

/** The baseline of the last `window` entries, or undefined with no history. */
export function computeBaseline(
  entries: HistoryEntry[],
  options: { window: number; maxShrinkPct?: number; maxGrowthPct?: number },
): SizeBaseline | undefined {
  const recent = entries.slice(-options.window);
  const median = medianBytes(recent.map((entry) => entry.bytes));
  if (median === undefined) return undefined;
  const m = BigInt(median);
  const baseline: SizeBaseline = { count: recent.length, window: options.window, median };
  if (options.maxShrinkPct !== undefined) {
    const keep = PCT_SCALE - pctUnits(options.maxShrinkPct);
    // bytes passes when bytes * SCALE >= median * keep, i.e. bytes >= ceil(median * keep / SCALE).
    baseline.lowest = keep <= 0n ? 0 : Number((m * keep + PCT_SCALE - 1n) / PCT_SCALE);
  }
  if (options.maxGrowthPct !== undefined) {
    baseline.highest = Number((m * (PCT_SCALE + pctUnits(options.maxGrowthPct))) / PCT_SCALE);
  }
  return baseline;
}

/** How `bytes` compares with the baseline: within bounds, shrunk too much or grown too much. */
export function compareWithBaseline(bytes: number, baseline: SizeBaseline): 'within' | 'shrunk' | 'grown' {
  const b = BigInt(bytes);
  if (baseline.lowest !== undefined && b < BigInt(baseline.lowest)) return 'shrunk';
  if (baseline.highest !== undefined && b > BigInt(baseline.highest)) return 'grown';
  return 'within';
}

/** The change from the median in whole percent, with sign, computed on integers: "-63%", "+12%". */
export function percentChange(bytes: number, median: number): string {
  if (median === 0) return bytes === 0 ? '+0%' : '+∞%';
  const diff = (BigInt(bytes) - BigInt(median)) * 100n;
  const pct = diff / BigInt(median);
  return `${diff < 0n ? '-' : '+'}${pct < 0n ? -pct : pct}%`;
}

/** Drops the newest entry when it is this very backup, so a re-check is not compared with itself. */
export function entriesBefore(entries: HistoryEntry[], current: { file?: string; bytes?: number; sha256?: string; mtimeMs?: number }): HistoryEntry[] {
  const last = entries[entries.length - 1];
  return last !== undefined && isSameBackup(last, current) ? entries.slice(0, -1) : entries;
}

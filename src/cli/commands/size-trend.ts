// The size trend of an artifact for `rearguard history`: a sparkline of verified sizes against the allowed band.
import type { ChalkInstance } from 'chalk';

const LEVELS = '▁▂▃▄▅▆▇█';

/** What the sparkline is drawn from; `history --json` carries it as is. */
export interface SizeTrend {
  /** Verified sizes in bytes, oldest first. */
  points: number[];
  /** 0..7 for each point: its height on the shared scale. */
  levels: number[];
  /** The scale: the smallest and largest of the points and the band edges. */
  scale: { low: number; high: number };
  /** The median the size check compares with, and the band it allows (absent: no bound). */
  baseline?: number;
  lowest?: number;
  highest?: number;
  /** Indexes of points outside today's band. */
  outside: number[];
}

/** Builds the trend of `points` against a baseline (median and allowed band) if there is one. */
export function buildSizeTrend(points: number[], baseline?: { median: number; lowest?: number; highest?: number }): SizeTrend {
  const edges = [...points, ...[baseline?.lowest, baseline?.highest].filter((n): n is number => n !== undefined)];
  const low = Math.min(...edges);
  const high = Math.max(...edges);
  const levelOf = (bytes: number): number => (high === low ? 3 : Math.round(((bytes - low) / (high - low)) * (LEVELS.length - 1)));
  const outside = points.flatMap((bytes, i) =>
    (baseline?.lowest !== undefined && bytes < baseline.lowest) || (baseline?.highest !== undefined && bytes > baseline.highest) ? [i] : [],
  );
  return {
    points,
    levels: points.map(levelOf),
    scale: { low, high },
    ...(baseline && { baseline: baseline.median }),
    ...(baseline?.lowest !== undefined && { lowest: baseline.lowest }),
    ...(baseline?.highest !== undefined && { highest: baseline.highest }),
    outside,
  };
}

/**
 * Lines for the terminal: the sparkline (points outside the band in red), a `^` row under those points
 * so the marks survive without colour, and where the baseline and the band edges sit on the same scale.
 */
export function renderSizeTrend(trend: SizeTrend, chalk: ChalkInstance, describe: (bytes: number) => string): string[] {
  if (trend.points.length === 0) return [];
  const spark = trend.levels.map((level, i) => (trend.outside.includes(i) ? chalk.red(LEVELS[level]) : LEVELS[level])).join('');
  const lines = [`trend    ${spark}  ${describe(trend.points[0]!)} → ${describe(trend.points.at(-1)!)} over ${trend.points.length} verified run(s)`];
  if (trend.outside.length > 0) {
    lines.push(`         ${trend.points.map((_p, i) => (trend.outside.includes(i) ? '^' : ' ')).join('').trimEnd()}  outside today's band`);
  }
  if (trend.baseline !== undefined) {
    const glyph = (bytes: number): string => {
      const { low, high } = trend.scale;
      return LEVELS[high === low ? 3 : Math.round(((bytes - low) / (high - low)) * (LEVELS.length - 1))]!;
    };
    const band = [
      trend.lowest !== undefined ? `from ${glyph(trend.lowest)} ${describe(trend.lowest)}` : 'no lower bound',
      trend.highest !== undefined ? `to ${glyph(trend.highest)} ${describe(trend.highest)}` : 'no upper bound',
    ].join(' ');
    lines.push(`band     baseline ${glyph(trend.baseline)} ${describe(trend.baseline)}; allowed ${band}`);
  }
  return lines;
}

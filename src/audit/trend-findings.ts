// `size-trend`: artifacts whose verified sizes kept shrinking (or growing) run after run (pure, informational).
import { percentChange } from '../../checks/size/baseline.js';
import type { CheckResult } from '../report/types.js';
import type { AuditFacts } from './gather.js';

const TREND_RUNS = 5;

/** "steadily shrinking over the last 5 sizes (-40%)" when every size is below the one before; also for growth. */
export function describeSteadyTrend(sizes: number[]): string | undefined {
  const recent = sizes.slice(-TREND_RUNS);
  if (recent.length < TREND_RUNS) return undefined;
  const pairs = recent.slice(1).map((value, i) => value - recent[i]!);
  const first = recent[0]!;
  const last = recent[recent.length - 1]!;
  if (pairs.every((d) => d < 0)) return `steadily shrinking over the last ${TREND_RUNS} sizes (${percentChange(last, first)})`;
  if (pairs.every((d) => d > 0)) return `steadily growing over the last ${TREND_RUNS} sizes (${percentChange(last, first)})`;
  return undefined;
}

/**
 * One finding per artifact with a steady trend in its history. The size rule itself (min, max_shrink,
 * max_growth) is judged by the size check on each artifact; a trend inside those bounds is only reported.
 */
export function judgeTrends(facts: AuditFacts): CheckResult[] {
  return facts.artifacts.flatMap((artifact) => {
    const trend = describeSteadyTrend(artifact.history.map((e) => e.bytes));
    if (!trend) return [];
    return [{ id: 'size-trend', target: `${artifact.unit}: ${artifact.pattern}`, status: 'ok', level: 'warning', message: `${artifact.unit}: ${trend}`, duration_ms: 0 } satisfies CheckResult];
  });
}

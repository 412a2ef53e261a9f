// Audit findings about one artifact (pure): does it exist, is it stale, how does its size compare with history.
import { describeBytes, evaluateSize } from '../../checks/size.js';
import type { ResolvedArtifact } from '../config/types.js';
import type { CheckResult } from '../report/types.js';
import { computeBaseline, entriesBefore, percentChange } from '../state/history.js';
import { formatDuration } from '../util/duration.js';
import type { ArtifactFacts } from './gather.js';

type Finding = Omit<CheckResult, 'duration_ms'>;

const TREND_RUNS = 5;

/** Findings `exists`, `stale` and `size-trend` for one artifact; statuses already account for their level. */
export function judgeArtifact(artifact: ResolvedArtifact | undefined, facts: ArtifactFacts, now: number): CheckResult[] {
  const level = artifact?.level ?? 'error';
  const fail = (level_: typeof level): 'failed' | 'warning' => (level_ === 'warning' ? 'warning' : 'failed');
  const findings: Finding[] = [];
  const newest = facts.newest;
  if (!newest || newest.bytes === 0) {
    findings.push({
      id: 'exists',
      target: newest?.file ?? facts.pattern,
      status: fail(level),
      level,
      message: newest ? `${newest.file} is empty (0 bytes)` : `no file matches ${facts.pattern}: the backup is missing`,
    });
    return findings.map((f) => ({ ...f, duration_ms: 0 }));
  }
  findings.push({ id: 'exists', target: newest.file, status: 'ok', level, message: `${newest.file} (${describeBytes(newest.bytes)})` });

  const age = Math.max(0, now - newest.mtimeMs);
  const written = `written ${formatDuration(age)} ago (${new Date(newest.mtimeMs).toISOString()})`;
  if (artifact?.maxAgeMs === undefined) {
    findings.push({ id: 'stale', target: newest.file, status: 'skipped', level, message: `${written}; no max_age set, so staleness is not judged` });
  } else if (age > artifact.maxAgeMs) {
    findings.push({
      id: 'stale',
      target: newest.file,
      status: fail(level),
      level,
      message: `newest backup is stale: ${written}, max_age is ${formatDuration(artifact.maxAgeMs)}; check the unit's timer and its last run`,
    });
  } else {
    findings.push({ id: 'stale', target: newest.file, status: 'ok', level, message: `${written}, within max_age ${formatDuration(artifact.maxAgeMs)}` });
  }

  findings.push(judgeSizeTrend(artifact, facts, newest));
  return findings.map((f) => ({ ...f, duration_ms: 0 }));
}

function judgeSizeTrend(artifact: ResolvedArtifact | undefined, facts: ArtifactFacts, newest: NonNullable<ArtifactFacts['newest']>): Finding {
  const size = artifact?.size;
  const level = size?.level ?? artifact?.level ?? 'error';
  const base = { id: 'size-trend', target: newest.file, level };
  if (facts.historyProblem) {
    return { ...base, status: 'warning', message: `size history unreadable, trend not judged: ${facts.historyProblem}` };
  }
  const before = entriesBefore(facts.history, newest);
  const details: string[] = [];
  const recorded = facts.history.some((e) => e.file === newest.file && e.bytes === newest.bytes);
  if (!recorded) details.push('the newest file is not in the history: no run has verified it yet');
  const trend = describeSteadyTrend(before.map((e) => e.bytes).concat(newest.bytes));
  if (trend) details.push(trend);
  const extra = details.length > 0 ? { details } : {};
  const bounded = size?.maxShrinkPct !== undefined || size?.maxGrowthPct !== undefined;
  const belowMin = size?.minBytes !== undefined && newest.bytes < size.minBytes;
  if (size && (bounded || belowMin)) {
    const outcome = evaluateSize(newest.bytes, size, before);
    const status = outcome.status === 'failed' ? (level === 'warning' ? 'warning' : 'failed') : outcome.status;
    return { ...base, status, message: outcome.message, ...extra };
  }
  const baseline = computeBaseline(before, { window: 14 });
  const message = baseline
    ? `${describeBytes(newest.bytes)}, ${percentChange(newest.bytes, baseline.median)} against the median of the last ${baseline.count}; no max_shrink/max_growth, so the trend is only reported`
    : `${describeBytes(newest.bytes)}; no size history yet`;
  return { ...base, status: baseline ? 'ok' : 'skipped', message, ...extra };
}

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

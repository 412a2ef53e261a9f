// Run ids and per-run folders (state_dir/runs/<run-id>/) holding unit logs; old runs are pruned.
import { compactTimestamp } from '../util/timestamp.js';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const KEEP_RUNS = 50;

/** A sortable, unique run id: 20261121T210000Z-3fa2. */
export function makeRunId(now: Date): string {
  return `${compactTimestamp(now)}-${randomBytes(2).toString('hex')}`;
}

/** Creates state_dir/runs/<run-id> (0700). */
export async function createRunDir(stateDir: string, runId: string): Promise<string> {
  const dir = path.join(stateDir, 'runs', runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Removes the run folders beyond `keep` (the newest count, none older than maxAgeMs), never `current`'s.
 * Resolves with what could not be removed, one message per folder: a folder left behind costs disk, not the run.
 */
export async function pruneRunDirs(stateDir: string, current: string, keep: { count: number; maxAgeMs: number } = { count: KEEP_RUNS, maxAgeMs: Infinity }): Promise<string[]> {
  const runsDir = path.join(stateDir, 'runs');
  let runs: string[];
  try {
    runs = (await readdir(runsDir)).filter(isRunId).sort();
  } catch (error) {
    return [`could not list the run folders in ${runsDir} to prune them: ${(error as Error).message}`];
  }
  const oldest = Date.now() - keep.maxAgeMs;
  const tooOld = (name: string): boolean => runIdTime(name) < oldest;
  // The current run is the newest, and is never pruned: it counts first, then the others newest first (two runs
  // started in the same second would otherwise sort by their ids' random part).
  const others = runs.filter((name) => name !== current);
  const beyondCount = new Set(others.slice(0, Math.max(0, others.length - Math.max(0, keep.count - 1))));
  const problems: string[] = [];
  for (const old of others) {
    if (!beyondCount.has(old) && !tooOld(old)) continue;
    const folder = path.join(runsDir, old);
    try {
      await rm(folder, { recursive: true, force: true });
    } catch (error) {
      problems.push(`could not remove the old run folder ${folder} (keep_runs): ${(error as Error).message}`);
    }
  }
  return problems;
}

/** True for a run id (and so a run folder's name): 20261121T210000Z-3fa2. */
export function isRunId(name: string): boolean {
  return /^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(name);
}

/** The log file of a unit in a run folder. */
export function unitLogPath(runDir: string, unit: string): string {
  return path.join(runDir, `${unit.replace(/[^A-Za-z0-9_.@:+-]/g, '_')}.log`);
}

/** The start time a run id names (20261121T210000Z-3fa2), in ms. */
export function runIdTime(runId: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(runId);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

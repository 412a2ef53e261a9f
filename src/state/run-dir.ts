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

/** Creates state_dir/runs/<run-id> (0700) and prunes run folders beyond `keep` (the newest count, none older than maxAgeMs). */
export async function createRunDir(stateDir: string, runId: string, keep: { count: number; maxAgeMs: number } = { count: KEEP_RUNS, maxAgeMs: Infinity }): Promise<string> {
  const runsDir = path.join(stateDir, 'runs');
  const dir = path.join(runsDir, runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const runs = (await readdir(runsDir)).filter(isRunId).sort();
  const oldest = Date.now() - keep.maxAgeMs;
  const tooOld = (name: string): boolean => runIdTime(name) < oldest;
  const beyondCount = new Set(runs.slice(0, Math.max(0, runs.length - keep.count)));
  for (const old of runs) {
    // The new run's own folder is never pruned.
    if (old === runId || (!beyondCount.has(old) && !tooOld(old))) continue;
    await rm(path.join(runsDir, old), { recursive: true, force: true });
  }
  return dir;
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

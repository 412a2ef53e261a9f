// Collects what `audit` judges, read-only: newest artifacts, history, last run reports, free space, temp files, the lock.
import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { loadPicomatch } from '../util/picomatch.js';
import type { ResolvedConfig } from '../config/types.js';
import type { HistoryEntry } from '../contract/history.js';
import { findNewestFile } from '../util/newest-file.js';
import type { Plan } from '../plan/types.js';
import type { RunReport } from '../report/types.js';
import { gatherRemoteTempFiles, type RemoteListProblem, type RemoteTempFinding } from './remote-temp.js';
import { historyFile, largestRecentTotal, listSetAsideHistory, readHistoryDocument } from '../state/history.js';

/** What audit learnt about one artifact of one planned unit. */
export interface ArtifactFacts {
  unit: string;
  pattern: string;
  /** The folder the glob starts from. */
  dir: string;
  newest?: { file: string; bytes: number; mtimeMs: number };
  history: HistoryEntry[];
  /** Set when the history file is corrupt. */
  historyProblem?: string;
  historyFile: string;
}

/** Everything audit judges; gathered once, then findings are pure functions of it. */
export interface AuditFacts {
  now: number;
  artifacts: ArtifactFacts[];
  /** The most recent run reports in state_dir/runs, newest first (audits keep none). */
  runs: RunReport[];
  /** Run folders without a readable report.json (older versions, or a run killed before its end). */
  runsWithoutReport: number;
  setAsideHistory: Array<{ file: string; at: Date }>;
  largestRecentTotal?: number;
  /** Free bytes per path (disk pre-flight paths and artifact folders), or why it could not be read. */
  free: Record<string, number | string>;
  /** Leftover temp files in artifact folders, older than an hour. */
  tempFiles: Array<{ file: string; bytes: number; mtimeMs: number }>;
  /** Upload temp files in offsite folders on SSH hosts, and folders that could not be listed. */
  remoteTempFiles: RemoteTempFinding[];
  remoteProblems: RemoteListProblem[];
  /** The holder of the run lock, when a run is in progress. */
  lockHolder?: string;
  /** What state_dir holds: bytes in all, and in run folders (logs, reports). */
  stateSize: { bytes: number; runBytes: number; runs: number };
}

const RUNS_READ = 10;
const TEMP_RE = /(?:\.tmp|\.part|\.partial|\.incomplete)$/;
const TEMP_MIN_AGE_MS = 60 * 60_000;

/** The static folder a glob starts from: "/var/backups/app" for "/var/backups/app/backup-*.tar.gz". */
export function globBase(pattern: string): string {
  const base = loadPicomatch().scan(pattern).base;
  return base === '' ? path.dirname(pattern) : base;
}

/** Gathers the facts. Reads only: no file is created, renamed or written. */
export async function gatherAuditFacts(config: ResolvedConfig, plan: Plan, now = Date.now()): Promise<AuditFacts> {
  const artifacts: ArtifactFacts[] = [];
  for (const stage of plan.stages) {
    for (const unit of stage.units) {
      for (const artifact of unit.artifacts) {
        const file = historyFile(config.stateDir, unit.name, artifact.pattern);
        const facts: ArtifactFacts = { unit: unit.name, pattern: artifact.pattern, dir: globBase(artifact.pattern), history: [], historyFile: file };
        const newest = await findNewestFile(artifact.pattern).catch(() => undefined);
        if (newest) facts.newest = newest;
        try {
          facts.history = (await readHistoryDocument(file))?.doc.entries ?? [];
        } catch (error) {
          facts.historyProblem = (error as Error).message;
        }
        artifacts.push(facts);
      }
    }
  }
  const { runs, runsWithoutReport } = await readRecentReports(config.stateDir);
  const paths = new Set<string>([
    ...config.preflight.flatMap((item) => (item.kind === 'disk' ? [item.path] : [])),
    ...artifacts.map((a) => a.dir),
  ]);
  const free: Record<string, number | string> = {};
  for (const p of paths) free[p] = await freeBytes(p);
  const largest = await largestRecentTotal(config.stateDir);
  const lockHolder = await readLockHolder(config.stateDir);
  const stateSize = await measureStateDir(config.stateDir);
  const remote = await gatherRemoteTempFiles(config);
  return {
    now,
    artifacts,
    runs,
    runsWithoutReport,
    setAsideHistory: await listSetAsideHistory(config.stateDir),
    ...(largest !== undefined && { largestRecentTotal: largest }),
    free,
    tempFiles: await findTempFiles([...new Set(artifacts.map((a) => a.dir))], now),
    remoteTempFiles: remote.files.filter((f) => f.mtimeMs === undefined || now - f.mtimeMs > TEMP_MIN_AGE_MS),
    remoteProblems: remote.problems,
    ...(lockHolder && { lockHolder }),
    stateSize,
  };
}

/** The most recent run reports in state_dir/runs, newest first by finish time, and how many run folders had none. */
export async function readRecentReports(stateDir: string): Promise<{ runs: RunReport[]; runsWithoutReport: number }> {
  const dir = path.join(stateDir, 'runs');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(n)).sort().reverse();
  const runs: RunReport[] = [];
  let runsWithoutReport = 0;
  let lastSecond = '';
  for (const name of names) {
    // Run ids order by their second only: runs started in the same second are all read, then ordered by time.
    const second = name.slice(0, 16);
    if (runs.length >= RUNS_READ && second !== lastSecond) break;
    lastSecond = second;
    try {
      const report = JSON.parse(await readFile(path.join(dir, name, 'report.json'), 'utf8')) as RunReport;
      if (report.schema !== 'rearguard.report/v1') throw new Error('not a report');
      runs.push(report);
    } catch {
      runsWithoutReport += 1;
    }
  }
  runs.sort((a, b) => b.finished_at.localeCompare(a.finished_at));
  return { runs: runs.slice(0, RUNS_READ), runsWithoutReport };
}

async function freeBytes(p: string): Promise<number | string> {
  // The folder may not exist yet: measure the nearest existing parent, as the backup would fill it.
  let current = p;
  for (;;) {
    try {
      const info = await statfs(current, { bigint: true });
      const free = info.bavail * info.bsize;
      return free > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(free);
    } catch (error) {
      const parent = path.dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) return (error as Error).message;
      current = parent;
    }
  }
}

async function findTempFiles(dirs: string[], now: number): Promise<AuditFacts['tempFiles']> {
  const found: AuditFacts['tempFiles'] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => TEMP_RE.test(n))) {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      if (info?.isFile() && now - info.mtimeMs > TEMP_MIN_AGE_MS) found.push({ file: path.join(dir, name), bytes: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return found;
}

async function readLockHolder(stateDir: string): Promise<string | undefined> {
  try {
    const holder = JSON.parse(await readFile(path.join(stateDir, 'rearguard.lock'), 'utf8')) as Record<string, unknown>;
    return `pid ${String(holder.pid)} on ${String(holder.host)}, "${String(holder.command)}", started ${String(holder.started_at)}`;
  } catch {
    return undefined;
  }
}

/** Bytes under state_dir, and how much of it the run folders take (read-only; links are not followed). */
async function measureStateDir(stateDir: string): Promise<AuditFacts['stateSize']> {
  const size = async (dir: string): Promise<number> => {
    let total = 0;
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) total += await size(full);
      else if (entry.isFile()) total += (await stat(full).catch(() => undefined))?.size ?? 0;
    }
    return total;
  };
  const runsDir = path.join(stateDir, 'runs');
  const runs = (await readdir(runsDir).catch(() => [] as string[])).length;
  return { bytes: await size(stateDir), runBytes: await size(runsDir), runs };
}

// Audit findings from state and disks (pure): last runs' verdicts, artifact folders' headroom, history health, leftover temp files.
import type { ResolvedConfig } from '../config/types.js';
import type { CheckResult, RunReport } from '../report/types.js';
import { describeBytes, formatBytes } from '../util/size.js';
import type { AuditFacts } from './gather.js';

const result = (id: string, target: string, status: CheckResult['status'], level: CheckResult['level'], message: string, details?: string[]): CheckResult => ({
  id,
  target,
  status,
  level,
  message,
  ...(details && details.length > 0 && { details }),
  duration_ms: 0,
});

function describeRun(run: RunReport): string {
  return `${run.run_id} ${run.command}: ${run.verdict} (exit ${run.exit_code}): ${run.reason}`;
}

/**
 * `last-runs`: the newest run's verdict. Critical is an error (no deploy-gate run proves the backups now),
 * partial a warning, no report at all a warning.
 */
export function judgeLastRuns(facts: AuditFacts): CheckResult {
  const details = facts.runs.map(describeRun);
  if (facts.runsWithoutReport > 0) details.push(`${facts.runsWithoutReport} recent run folder(s) have no report.json (older version, or killed before the end)`);
  const last = facts.runs[0];
  if (!last) return result('last-runs', 'state_dir/runs', 'warning', 'warning', 'no run report found: run rearguard orchestrate or verify first', details);
  const lastOk = facts.runs.find((run) => run.verdict === 'ok');
  const since = lastOk ? `; last ok run ${lastOk.run_id} (${lastOk.command}) finished ${lastOk.finished_at}` : '; none of the last runs was ok';
  const message = `last run ${last.run_id} (${last.command}, ${last.finished_at}) was ${last.verdict}: ${last.reason}${last.verdict === 'ok' ? '' : since}`;
  if (last.verdict === 'critical') return result('last-runs', last.run_id, 'failed', 'error', message, details);
  if (last.verdict === 'partial') return result('last-runs', last.run_id, 'warning', 'warning', message, details);
  return result('last-runs', last.run_id, 'ok', 'error', message, details);
}

/**
 * `headroom`: each artifact folder that no disk pre-flight covers, against the largest recent size of
 * its artifacts (warning: the next backup may not fit). Disk pre-flights themselves run as the real check.
 */
export function judgeHeadroom(config: ResolvedConfig, facts: AuditFacts): CheckResult[] {
  const findings: CheckResult[] = [];
  const covered = new Set(config.preflight.flatMap((item) => (item.kind === 'disk' ? [item.path] : [])));
  const byDir = new Map<string, number>();
  for (const artifact of facts.artifacts) {
    const largest = artifact.history.reduce((max, e) => Math.max(max, e.bytes), artifact.newest?.bytes ?? 0);
    if (largest > 0) byDir.set(artifact.dir, (byDir.get(artifact.dir) ?? 0) + largest);
  }
  for (const [dir, needed] of byDir) {
    if (covered.has(dir)) continue;
    const free = facts.free[dir];
    if (typeof free !== 'number') continue;
    findings.push(
      free < needed
        ? result('headroom', dir, 'warning', 'warning', `${dir}: ${formatBytes(free)} free, less than the largest recent backup(s) written there (${describeBytes(needed)}): the next backup may not fit; add a disk pre-flight`)
        : result('headroom', dir, 'ok', 'warning', `${dir}: ${formatBytes(free)} free, largest recent backup(s) there ${formatBytes(needed)}`),
    );
  }
  return findings;
}

/** `state-size`: how much state_dir holds, and its run folders (logs and reports, pruned by keep_runs). */
export function judgeStateSize(config: ResolvedConfig, facts: AuditFacts): CheckResult {
  const { bytes, runBytes, runs } = facts.stateSize;
  return result(
    'state-size',
    config.stateDir,
    'ok',
    'warning',
    `${config.stateDir} holds ${formatBytes(bytes)}; ${runs} run folder(s) take ${formatBytes(runBytes)} (kept: the newest ${config.keepRuns.count}, none older than ${Math.round(config.keepRuns.maxAgeMs / 86_400_000)} days; unit logs capped at log_max)`,
  );
}

/** `history`: corrupt history files, and files set aside as corrupt by earlier runs (warning). */
export function judgeHistoryHealth(facts: AuditFacts): CheckResult[] {
  const findings: CheckResult[] = [];
  for (const artifact of facts.artifacts) {
    if (artifact.historyProblem) {
      findings.push(result('history', artifact.historyFile, 'warning', 'warning', `${artifact.historyProblem}; the next run that records a size sets it aside and starts the baseline again`));
    }
  }
  for (const aside of facts.setAsideHistory) {
    findings.push(result('history', aside.file, 'warning', 'warning', `a corrupt size history was set aside at ${aside.at.toISOString()} as ${aside.file}; look at it, then delete it`));
  }
  return findings;
}

/** `orphaned-temp`: temp files older than an hour beside the backups (an interrupted backup or upload; warning). */
export function judgeTempFiles(facts: AuditFacts): CheckResult[] {
  return [
    ...facts.tempFiles.map((temp) =>
      result('orphaned-temp', temp.file, 'warning', 'warning', `leftover temp file ${temp.file} (${formatBytes(temp.bytes)}, last written ${new Date(temp.mtimeMs).toISOString()}): an interrupted backup? remove it once no backup runs`),
    ),
    ...facts.remoteTempFiles.map((temp) => {
      const size = temp.bytes !== undefined ? `${formatBytes(temp.bytes)}, ` : '';
      const when = temp.mtimeMs !== undefined ? `last written ${new Date(temp.mtimeMs).toISOString()}` : 'age unknown';
      return result('orphaned-temp', `${temp.host}:${temp.file}`, 'warning', 'warning', `leftover upload temp file ${temp.host}:${temp.file} (${size}${when}): an interrupted upload; remove it once no upload runs`);
    }),
    ...facts.remoteProblems.map((p) =>
      result('offsite-folder', `${p.host}:${p.dir}`, 'warning', 'warning', `cannot list ${p.host}:${p.dir} for leftover upload temp files: ${p.problem}`),
    ),
  ];
}

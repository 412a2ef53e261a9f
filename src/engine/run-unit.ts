// Runs one unit: env, attempts with retries and backoff, log file, then artifact verification and history.
import { appendFile, open } from 'node:fs/promises';
import type { CommandName, ResolvedConfig } from '../config/types.js';
import type { Exec } from '../exec/types.js';
import type { PlannedUnit } from '../plan/types.js';
import type { ArtifactResult, CheckResult, UnitResult, UnitStatus } from '../report/types.js';
import { appendHistory, historyReader } from '../state/history.js';
import { unitLogPath } from '../state/run-dir.js';
import type { Redactor } from '../util/secrets.js';
import { actionFor } from './actions/index.js';
import type { ActionResult } from './actions/types.js';
import { followLog } from './follow-log.js';
import { unitIdentity } from './unit-identity.js';
import { buildUnitEnv } from './unit-env.js';
import { verifyArtifact, type SharedCheckContext } from './verify-artifact.js';

/** What runUnit needs from the run. */
export interface UnitRunContext {
  config: ResolvedConfig;
  command: CommandName;
  runId: string;
  runDir: string;
  exec: Exec;
  signal: AbortSignal;
  redactor: Redactor;
  shared: SharedCheckContext;
  onStart(attempt: number): void;
  /** Set with --verbose: receives the unit's output line by line. */
  onOutput?: (line: string) => void;
  onCheck(pattern: string, result: CheckResult): void;
  /** A problem around the backup itself (a corrupt history set aside): it makes the run at least partial. */
  onWarning(message: string): void;
}

const LOG_TAIL_LINES = 20;
const LOG_TAIL_BYTES = 64 * 1024;

/** Runs (orchestrate) or only verifies (other commands) a unit, and returns its result. */
export async function runUnit(unit: PlannedUnit, ctx: UnitRunContext): Promise<UnitResult> {
  const started = Date.now();
  const base = unitIdentity(unit);
  if (ctx.signal.aborted) {
    return { ...base, status: 'skipped', message: `not started: ${abortReason(ctx.signal)}`, exit_code: null, attempts: 0, duration_ms: 0, artifacts: [] };
  }

  let action: ActionResult | undefined;
  let attempts = 0;
  let log: string | undefined;
  if (ctx.command === 'orchestrate') {
    log = unitLogPath(ctx.runDir, unit.name);
    const logFile = log;
    const note = (line: string): Promise<void> => appendFile(logFile, `[rearguard ${new Date().toISOString()}] ${line}\n`, { mode: 0o600 });
    let env: Record<string, string>;
    try {
      const built = await buildUnitEnv(ctx.config.env, unit.envFile, unit.env);
      ctx.redactor.addEnv({ ...built.fromFile, ...unit.env });
      env = built.env;
    } catch (error) {
      await note((error as Error).message);
      return finish({ status: 'failed', exitCode: null, message: (error as Error).message }, 0, []);
    }
    const run = actionFor(unit);
    const follower = ctx.onOutput ? followLog(logFile, (line) => ctx.onOutput?.(ctx.redactor.redact(line))) : undefined;
    try {
    for (;;) {
      attempts += 1;
      ctx.onStart(attempts);
      await note(`attempt ${attempts} of ${unit.retries + 1}: ${describeAction(unit)}`);
      action = await run({
        unit,
        env,
        logFile,
        exec: ctx.exec,
        hosts: ctx.config.hosts,
        systemctl: ctx.config.defaults.systemctl,
        signal: ctx.signal,
        note,
      });
      await note(`attempt ${attempts}: ${action.status}: ${action.message}`);
      if (action.status === 'ok' || action.status === 'skipped' || action.status === 'aborted' || attempts > unit.retries) break;
      const delay = backoff(unit.retryDelayMs, attempts);
      await note(`retrying in ${Math.round(delay / 100) / 10}s`);
      if (!(await sleep(delay, ctx.signal))) break;
    }
    } finally {
      await follower?.stop();
    }
    if (action.status !== 'ok') return finish(action, attempts, []);
  }

  const artifacts: ArtifactResult[] = [];
  for (const artifact of unit.artifacts) {
    const history = historyReader(ctx.config.stateDir, unit.name, artifact.pattern);
    const verified = await verifyArtifact(
      unit,
      artifact,
      ctx.shared,
      { unit: unit.name, pattern: artifact.pattern, unitStartedAt: started, unitTimeoutMs: unit.timeoutMs, history },
      (result) => ctx.onCheck(artifact.pattern, result),
    );
    const { facts, ...result } = verified;
    artifacts.push(result);
    // Only an artifact that passed every check enters the history; the same file is not recorded twice.
    if (result.status === 'ok' && facts.file && facts.bytes !== undefined && !ctx.signal.aborted) {
      const last = (await history.read(1).catch(() => []))[0];
      if (!last || last.file !== facts.file || last.bytes !== facts.bytes || last.sha256 !== facts.sha256) {
        const { setAside } = await appendHistory(ctx.config.stateDir, unit.name, artifact.pattern, {
          at: new Date().toISOString(),
          run_id: ctx.runId,
          bytes: facts.bytes,
          ...(facts.sha256 && { sha256: facts.sha256 }),
          file: facts.file,
        });
        // A corrupt history is renamed aside, never overwritten.
        if (setAside) ctx.onWarning(`size history was corrupt and is kept aside as ${setAside}; the size baseline starts again`);
      }
    }
  }
  return finish(action ?? { status: 'ok', exitCode: null, message: 'verified in place' }, attempts, artifacts);

  async function finish(result: ActionResult, attemptCount: number, artifactResults: ArtifactResult[]): Promise<UnitResult> {
    const failedChecks = artifactResults.flatMap((a) => a.checks).filter((c) => c.status === 'failed');
    const warnedChecks = artifactResults.flatMap((a) => a.checks).filter((c) => c.status === 'warning');
    let status: UnitStatus;
    let message: string;
    if (result.status === 'aborted') {
      status = 'failed';
      message = `${result.message} (${abortReason(ctx.signal)})`;
    } else if (result.status === 'timeout' || result.status === 'failed' || result.status === 'skipped') {
      status = result.status;
      message = result.message;
    } else if (failedChecks.length > 0) {
      status = 'failed';
      const first = failedChecks[0]!;
      const prefix = ctx.command === 'orchestrate' ? `${result.message}, but verification failed` : 'verification failed';
      message = `${prefix}: ${first.id}: ${first.message}`;
    } else if (warnedChecks.length > 0) {
      status = 'warning';
      message = `warning: ${warnedChecks.map((c) => `${c.id}: ${c.message}`).join('; ')}`;
    } else {
      status = 'ok';
      message = artifactResults.length > 0 ? `${result.message}; ${artifactResults.length} artifact(s) verified` : result.message;
    }
    if (attemptCount > 1) message += ` (after ${attemptCount} attempts)`;
    const tail = status === 'ok' || !log ? undefined : await readLogTail(log, ctx.redactor);
    return {
      ...base,
      status,
      message: ctx.redactor.redact(message),
      exit_code: result.exitCode,
      ...(result.signal && { signal: result.signal }),
      attempts: attemptCount,
      started_at: new Date(started).toISOString(),
      duration_ms: Date.now() - started,
      ...(log && { log }),
      ...(tail && tail.length > 0 && { log_tail: tail }),
      artifacts: artifactResults,
    };
  }
}

function describeAction(unit: PlannedUnit): string {
  const where = unit.host ? ` on ${unit.host}` : '';
  switch (unit.action.kind) {
    case 'run':
      return `run ${JSON.stringify(unit.action.argv)}${where}`;
    case 'shell':
      return `shell ${JSON.stringify(unit.action.script)}${where}`;
    case 'systemd':
      return `systemd ${unit.action.service}${where}`;
    case 'sqlite_backup':
      return `sqlite_backup ${unit.action.source} -> ${unit.action.dest}`;
    default:
      return unit.action.kind;
  }
}

/** Exponential backoff with jitter: base·2^(n-1) ± 20%. */
export function backoff(baseMs: number, attempt: number): number {
  const exp = baseMs * 2 ** (attempt - 1);
  return Math.round(exp * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason a run was aborted, as "aborted by SIGTERM". */
export function abortReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? `aborted by ${signal.reason}` : 'aborted';
}

async function readLogTail(file: string, redactor: Redactor): Promise<string[]> {
  // Only the end of the file: a verbose dump can log gigabytes.
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return [];
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift();
    return lines
      .filter((line) => line.trim() !== '' && !line.startsWith('[rearguard '))
      .slice(-LOG_TAIL_LINES)
      .map((line) => redactor.redact(line.slice(0, 500)));
  } finally {
    await handle.close();
  }
}

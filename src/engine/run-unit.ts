// Runs one unit: its attempts (when the plan runs units), then its artifacts' verification, then its status.
import { appendFileSync } from 'node:fs';
import type { ResolvedConfig } from '../config/types.js';
import type { Exec } from '../exec/types.js';
import type { PlannedUnit } from '../plan/types.js';
import type { CheckResult, UnitResult } from '../report/types.js';
import { unitLogPath } from '../state/run-dir.js';
import type { Redactor } from '../util/secrets.js';
import { readFileTail } from '../util/tail.js';
import type { ActionResult } from './actions/types.js';
import { followLog } from './follow-log.js';
import { runAttempts } from './unit/attempts.js';
import { decideUnitStatus } from './unit/status.js';
import { verifyUnitArtifacts } from './unit/verify-artifacts.js';
import { unitIdentity } from './unit-identity.js';
import { buildUnitEnv } from './unit-env.js';
import type { SharedCheckContext } from './verify-artifact.js';

/** What runUnit needs from the run. */
export interface UnitRunContext {
  config: ResolvedConfig;
  /** Run the unit's action (orchestrate), or only verify its artifacts in place. */
  runsUnits: boolean;
  /** Record verified sizes in the history (not in read-only commands). */
  recordHistory: boolean;
  runId: string;
  runDir: string;
  exec: Exec;
  signal: AbortSignal;
  redactor: Redactor;
  shared: SharedCheckContext;
  onStart: (attempt: number) => void;
  /** Set with --verbose: receives the unit's output line by line. */
  onOutput?: (line: string) => void;
  onCheck: (pattern: string, result: CheckResult) => void;
  /** A problem around the backup itself (a corrupt history set aside): it makes the run at least partial. */
  onWarning: (message: string) => void;
}

const LOG_TAIL_LINES = 20;
const LOG_TAIL_BYTES = 64 * 1024;

/** Runs (when the plan runs units) or only verifies a unit, and returns its result. */
export async function runUnit(unit: PlannedUnit, ctx: UnitRunContext): Promise<UnitResult> {
  const started = Date.now();
  if (ctx.signal.aborted) {
    return { ...unitIdentity(unit), status: 'skipped', message: `not started: ${abortReason(ctx.signal)}`, exit_code: null, attempts: 0, duration_ms: 0, artifacts: [] };
  }
  const ran = ctx.runsUnits ? await runAction(unit, ctx) : undefined;
  const artifacts =
    ran && ran.action.status !== 'ok'
      ? []
      : await verifyUnitArtifacts(unit, { ...ctx, unitStartedAt: started });
  const { status, message } = decideUnitStatus({
    ...(ran && { action: ran.action }),
    attempts: ran?.attempts ?? 0,
    artifacts,
    abortReason: abortReason(ctx.signal),
  });
  const log = ran?.log;
  const tail = status === 'ok' || !log ? undefined : await readLogTail(log, ctx.redactor);
  return {
    ...unitIdentity(unit),
    status,
    message: ctx.redactor.redact(message),
    exit_code: ran?.action.exitCode ?? null,
    ...(ran?.action.signal && { signal: ran.action.signal }),
    attempts: ran?.attempts ?? 0,
    started_at: new Date(started).toISOString(),
    duration_ms: Date.now() - started,
    ...(log && { log }),
    ...(ran?.action.logTruncated && { log_truncated: { bytes: ran.action.logTruncated.bytes, dropped_bytes: ran.action.logTruncated.droppedBytes } }),
    ...(tail && tail.length > 0 && { log_tail: tail }),
    artifacts,
  };
}

/** Builds the unit's environment and runs its attempts, with its log in the run folder. */
async function runAction(unit: PlannedUnit, ctx: UnitRunContext): Promise<{ action: ActionResult; attempts: number; log: string }> {
  const log = unitLogPath(ctx.runDir, unit.name);
  // A note that cannot be written (a full or read-only state_dir) never stops the unit: the first such failure
  // is a warning that makes the run at least partial, and the unit goes on without its notes. A note is one short
  // line appended to a file in the run folder, where the live records are also written synchronously: a few system
  // calls, where the same append through the promise API takes three trips through libuv's thread pool, each
  // waking a thread, for every note of every unit.
  let noteLost = false;
  const note = async (line: string): Promise<void> => {
    try {
      appendFileSync(log, `[rearguard ${new Date().toISOString()}] ${line}\n`, { mode: 0o600 });
    } catch (error) {
      if (noteLost) return;
      noteLost = true;
      ctx.onWarning(`unit ${unit.name}: could not write its log ${log}: ${(error as Error).message}`);
    }
  };
  let env: Record<string, string>;
  try {
    const built = await buildUnitEnv(ctx.config.env, unit.envFile, unit.env);
    ctx.redactor.addEnv({ ...built.fromFile, ...unit.env });
    env = built.env;
  } catch (error) {
    await note((error as Error).message);
    return { action: { status: 'failed', exitCode: null, message: (error as Error).message }, attempts: 0, log };
  }
  const follower = ctx.onOutput ? followLog(log, (line) => ctx.onOutput?.(ctx.redactor.redact(line))) : undefined;
  try {
    return { ...(await runAttempts(unit, { config: ctx.config, exec: ctx.exec, signal: ctx.signal, env, logFile: log, note, onStart: ctx.onStart })), log };
  } finally {
    await follower?.stop();
  }
}

/** The reason a run was aborted, as "aborted by SIGTERM". */
export function abortReason(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? `aborted by ${signal.reason}` : 'aborted';
}

// The report shows the unit's own output, not rearguard's notes in its log.
async function readLogTail(file: string, redactor: Redactor): Promise<string[]> {
  const lines = await readFileTail(file, LOG_TAIL_LINES, LOG_TAIL_BYTES, (line) => !line.startsWith('[rearguard '));
  return lines.map((line) => redactor.redact(line.slice(0, 500)));
}

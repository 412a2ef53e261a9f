// A unit's attempts: the action run with retries and capped backoff, each attempt noted in the unit log.
import type { ResolvedConfig } from '../../config/types.js';
import type { Exec } from '../../exec/types.js';
import { describeUnitAction } from '../../plan/render-plan.js';
import type { PlannedUnit } from '../../plan/types.js';
import { backoffDelay, sleepUnlessAborted } from '../../util/backoff.js';
import { actionFor } from '../actions/index.js';
import type { ActionResult } from '../actions/types.js';

/** No wait between two attempts of a unit is longer than this, however many retries it has. */
export const UNIT_RETRY_MAX_MS = 5 * 60_000;

/** What running a unit's attempts needs. */
export interface AttemptContext {
  config: ResolvedConfig;
  exec: Exec;
  signal: AbortSignal;
  env: Record<string, string>;
  logFile: string;
  note: (line: string) => Promise<void>;
  onStart: (attempt: number) => void;
}

/** Runs the unit's action until it succeeds, is skipped or aborted, or its retries are used up. */
export async function runAttempts(unit: PlannedUnit, ctx: AttemptContext): Promise<{ action: ActionResult; attempts: number }> {
  const run = actionFor(unit);
  for (let attempts = 1; ; attempts += 1) {
    ctx.onStart(attempts);
    await ctx.note(`attempt ${attempts} of ${unit.retries + 1}: ${describeUnitAction(unit)}`);
    const action = await run({
      unit,
      env: ctx.env,
      logFile: ctx.logFile,
      exec: ctx.exec,
      systemctl: ctx.config.defaults.systemctl,
      signal: ctx.signal,
      note: ctx.note,
    });
    await ctx.note(`attempt ${attempts}: ${action.status}: ${action.message}`);
    if (action.status === 'ok' || action.status === 'skipped' || action.status === 'aborted' || attempts > unit.retries) {
      return { action, attempts };
    }
    const wait = backoffDelay(attempts, { baseMs: unit.retryDelayMs, maxMs: UNIT_RETRY_MAX_MS });
    await ctx.note(`retrying in ${Math.round(wait / 100) / 10}s`);
    if (!(await sleepUnlessAborted(wait, ctx.signal))) return { action, attempts };
  }
}

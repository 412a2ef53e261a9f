// The status and message of a unit from its action's end and its artifacts' checks (pure).
import type { ActionResult } from '../actions/types.js';
import type { ArtifactResult, UnitStatus } from '../../report/types.js';

/** What the status decision looks at. */
export interface UnitOutcome {
  /** The action's end; undefined when the command only verifies artifacts in place. */
  action?: ActionResult;
  attempts: number;
  artifacts: ArtifactResult[];
  /** "aborted by SIGTERM", for an aborted action. */
  abortReason: string;
}

/** Decides ok / warning / failed / timeout / skipped and the one-line message of a unit. */
export function decideUnitStatus(outcome: UnitOutcome): { status: UnitStatus; message: string } {
  const { action, artifacts } = outcome;
  const checks = artifacts.flatMap((a) => a.checks);
  const failed = checks.filter((c) => c.status === 'failed');
  const warned = checks.filter((c) => c.status === 'warning');
  const actionMessage = action?.message ?? 'verified in place';
  let status: UnitStatus;
  let message: string;
  if (action?.status === 'aborted') {
    status = 'failed';
    message = `${action.message} (${outcome.abortReason})`;
  } else if (action && (action.status === 'timeout' || action.status === 'failed' || action.status === 'skipped')) {
    status = action.status;
    message = action.message;
  } else if (failed.length > 0) {
    status = 'failed';
    const first = failed[0]!;
    message = `${action ? `${action.message}, but verification failed` : 'verification failed'}: ${first.id}: ${first.message}`;
  } else if (warned.length > 0) {
    status = 'warning';
    message = `warning: ${warned.map((c) => `${c.id}: ${c.message}`).join('; ')}`;
  } else {
    status = 'ok';
    message = artifacts.length > 0 ? `${actionMessage}; ${artifacts.length} artifact(s) verified` : actionMessage;
  }
  if (outcome.attempts > 1) message += ` (after ${outcome.attempts} attempts)`;
  return { status, message };
}

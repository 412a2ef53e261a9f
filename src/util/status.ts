// How a check's outcome and level become a reported status, and how statuses add up.
import type { Level } from '../config/types.js';
import type { CheckStatus } from '../report/types.js';

/** A failure at level warning is reported as `warning`; anything else keeps its status. */
export function statusAtLevel(status: 'ok' | 'failed' | 'skipped', level: Level): CheckStatus {
  return status === 'failed' && level === 'warning' ? 'warning' : status;
}

/** failed if any failed, else warning if any warned, else ok. */
export function worstStatus(statuses: readonly CheckStatus[]): 'ok' | 'warning' | 'failed' {
  if (statuses.includes('failed')) return 'failed';
  return statuses.includes('warning') ? 'warning' : 'ok';
}

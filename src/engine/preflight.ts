// Runs every pre-flight check concurrently.
import { statusAtLevel } from '../util/status.js';
import { preflightChecks } from '../../checks/registry.js';
import type { Plan } from '../plan/types.js';
import type { CheckResult } from '../report/types.js';
import { largestRecentTotal } from '../state/history.js';
import type { SharedCheckContext } from './verify-artifact.js';

/** Runs the plan's pre-flight checks; results keep the plan's order. */
export async function runPreflight(
  plan: Plan,
  shared: SharedCheckContext,
  stateDir: string,
  onResult: (result: CheckResult) => void,
): Promise<CheckResult[]> {
  const history = { largestRecentTotal: () => largestRecentTotal(stateDir) };
  return Promise.all(
    plan.preflight.map(async (planned) => {
      const started = Date.now();
      const check = preflightChecks[planned.item.kind];
      let outcome;
      try {
        if (!check) throw new Error(`${planned.item.kind} pre-flight checks are not supported by this build`);
        outcome = await check.run({ ...shared, options: planned.item, history });
      } catch (error) {
        outcome = { status: 'failed' as const, message: `${planned.description}: ${(error as Error).message}` };
      }
      const result: CheckResult = {
        id: planned.id,
        target: planned.description,
        status: statusAtLevel(outcome.status, planned.level),
        level: planned.level,
        message: outcome.message,
        ...(outcome.details && { details: outcome.details }),
        duration_ms: Date.now() - started,
      };
      onResult(result);
      return result;
    }),
  );
}

// Verifies each artifact of a unit and, where the plan allows, records the verified ones in the size history.
import type { ResolvedConfig } from '../../config/types.js';
import type { PlannedUnit } from '../../plan/types.js';
import type { ArtifactResult, CheckResult } from '../../report/types.js';
import { historyReader } from '../../state/history.js';
import { verifyArtifact, type SharedCheckContext } from '../verify-artifact.js';
import { recordVerifiedSize } from './record-history.js';

/** What verifying a unit's artifacts needs. */
export interface VerifyContext {
  config: ResolvedConfig;
  runId: string;
  shared: SharedCheckContext;
  /** Record verified sizes (false for read-only commands). */
  recordHistory: boolean;
  /** When the unit started, for `fresh`. */
  unitStartedAt: number;
  onCheck: (pattern: string, result: CheckResult) => void;
  onWarning: (message: string) => void;
}

/** Verifies the unit's artifacts in order; only an artifact that passed every check enters the history. */
export async function verifyUnitArtifacts(unit: PlannedUnit, ctx: VerifyContext): Promise<ArtifactResult[]> {
  const results: ArtifactResult[] = [];
  for (const artifact of unit.artifacts) {
    const history = historyReader(ctx.config.stateDir, unit.name, artifact.pattern);
    const { facts, ...result } = await verifyArtifact(
      artifact,
      ctx.shared,
      { unit: unit.name, pattern: artifact.pattern, unitStartedAt: ctx.unitStartedAt, unitTimeoutMs: unit.timeoutMs, history },
      (check) => ctx.onCheck(artifact.pattern, check),
    );
    results.push(result);
    if (ctx.recordHistory && result.status === 'ok' && !ctx.shared.signal.aborted) {
      const warning = await recordVerifiedSize(ctx.config.stateDir, unit.name, artifact.pattern, history, facts, ctx.runId);
      if (warning) ctx.onWarning(warning);
    }
  }
  return results;
}

// Verifies each artifact of a unit and, where the plan allows, records the verified ones in the size history.
import os from 'node:os';
import pLimit from 'p-limit';
import type { ResolvedConfig } from '../../config/types.js';
import type { PlannedArtifact, PlannedUnit } from '../../plan/types.js';
import type { ArtifactResult, CheckResult } from '../../report/types.js';
import { historyReader } from '../../state/history.js';
import { verifiesReadOnly, verifyArtifact, type SharedCheckContext } from '../verify-artifact.js';
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
  /** Artifacts verified at once at most (default: one per core, at least two). */
  artifactConcurrency?: number;
}

/** How many of a unit's read-only artifacts are verified at once by default: the hash pool has one worker per core. */
export function defaultArtifactConcurrency(): number {
  return Math.max(2, os.availableParallelism());
}

/**
 * Verifies the unit's artifacts; only an artifact that passed every check enters the history.
 *
 * Artifacts whose steps are all read-only are verified concurrently (bounded), so several files hash on
 * several cores; an artifact with any other step (scratch space, commands, uploads) runs alone, after the
 * ones before it and before the ones after it, and so does one whose pattern repeats an earlier one (its
 * size check must see the history the earlier one records). Whatever runs at once, results, `onCheck`
 * calls and history records come in the artifacts' order, exactly as when they ran one after another.
 */
export async function verifyUnitArtifacts(unit: PlannedUnit, ctx: VerifyContext): Promise<ArtifactResult[]> {
  const limit = Math.max(1, Math.floor(ctx.artifactConcurrency ?? defaultArtifactConcurrency()));
  const results: ArtifactResult[] = [];
  for (const group of groupArtifacts(unit.artifacts)) {
    // The artifact whose checks are passed on as they land; the others' wait in `held` for their turn.
    let current = 0;
    const held = group.map((): CheckResult[] => []);
    const report = (index: number, pattern: string, check: CheckResult): void => {
      if (index === current) ctx.onCheck(pattern, check);
      else held[index]!.push(check);
    };
    const bound = pLimit(limit);
    const started = group.map((artifact, index) => bound(async () => {
      const history = historyReader(ctx.config.stateDir, unit.name, artifact.pattern);
      const verified = await verifyArtifact(
        artifact,
        ctx.shared,
        { unit: unit.name, pattern: artifact.pattern, unitStartedAt: ctx.unitStartedAt, unitTimeoutMs: unit.timeoutMs, history },
        (check) => report(index, artifact.pattern, check),
      );
      return { verified, history };
    }));
    // Awaited in order below; marked handled now so one that fails while an earlier one runs is not "unhandled".
    for (const promise of started) promise.catch(() => undefined);
    for (const [index, artifact] of group.entries()) {
      current = index;
      for (const check of held[index]!.splice(0)) ctx.onCheck(artifact.pattern, check);
      const { verified, history } = await started[index]!;
      const { facts, ...result } = verified;
      results.push(result);
      if (ctx.recordHistory && result.status === 'ok' && !ctx.shared.signal.aborted) {
        const warning = await recordVerifiedSize(ctx.config.stateDir, unit.name, artifact.pattern, history, facts, ctx.runId);
        if (warning) ctx.onWarning(warning);
      }
    }
  }
  return results;
}

/** Consecutive read-only artifacts with distinct patterns form one group; any other artifact is a group alone. */
export function groupArtifacts(artifacts: readonly PlannedArtifact[]): PlannedArtifact[][] {
  const groups: PlannedArtifact[][] = [];
  let open: PlannedArtifact[] | undefined;
  for (const artifact of artifacts) {
    if (!verifiesReadOnly(artifact)) {
      open = undefined;
      groups.push([artifact]);
      continue;
    }
    if (!open || open.some((other) => other.pattern === artifact.pattern)) {
      open = [];
      groups.push(open);
    }
    open.push(artifact);
  }
  return groups;
}

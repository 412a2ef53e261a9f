// Runs an artifact's planned checks in order, stopping at the first error-level failure.
import { artifactChecks } from '../../checks/registry.js';
import type { ArtifactFacts, ArtifactTarget, CheckContext } from '../../checks/types.js';
import type { PlannedArtifact, PlannedUnit } from '../plan/types.js';
import type { ArtifactResult, CheckResult } from '../report/types.js';

const checksById = new Map(artifactChecks.map((check) => [check.id, check]));

/** Context shared by every check of a run, minus the check's own options. */
export type SharedCheckContext = Omit<CheckContext<unknown>, 'options'>;

/** Verifies one artifact; `onCheck` is told each result as it lands. */
export async function verifyArtifact(
  unit: PlannedUnit,
  artifact: PlannedArtifact,
  shared: SharedCheckContext,
  target: Omit<ArtifactTarget, 'facts'>,
  onCheck: (result: CheckResult) => void,
): Promise<ArtifactResult & { facts: Partial<ArtifactFacts> }> {
  const facts: Partial<ArtifactFacts> = {};
  const results: CheckResult[] = [];
  let stopped: string | undefined;
  for (const planned of artifact.checks) {
    const started = Date.now();
    if (stopped !== undefined || shared.signal.aborted) {
      const result: CheckResult = {
        id: planned.id,
        target: facts.file ?? artifact.pattern,
        status: 'skipped',
        level: planned.level,
        message: shared.signal.aborted ? 'not run: the run was aborted' : `not run: ${stopped} failed`,
        duration_ms: 0,
      };
      results.push(result);
      onCheck(result);
      continue;
    }
    const check = checksById.get(planned.id);
    let outcome;
    try {
      if (!check) throw new Error(`no check named ${planned.id}`);
      outcome = await check.run({ ...shared, options: planned.options }, { ...target, facts });
    } catch (error) {
      outcome = { status: 'failed' as const, message: `${planned.id} check crashed: ${(error as Error).message}` };
    }
    Object.assign(facts, outcome.facts);
    const failed = outcome.status === 'failed';
    const result: CheckResult = {
      id: planned.id,
      target: facts.file ?? artifact.pattern,
      status: failed ? (planned.level === 'warning' ? 'warning' : 'failed') : outcome.status,
      level: planned.level,
      message: outcome.message,
      ...(outcome.details && outcome.details.length > 0 && { details: outcome.details }),
      duration_ms: Date.now() - started,
    };
    results.push(result);
    onCheck(result);
    // `exists` failing leaves nothing to check, whatever its level.
    if (failed && (planned.level === 'error' || planned.id === 'exists')) stopped = planned.id;
  }
  const status = results.some((r) => r.status === 'failed')
    ? 'failed'
    : results.some((r) => r.status === 'warning')
      ? 'warning'
      : 'ok';
  return {
    pattern: artifact.pattern,
    ...(facts.file !== undefined && { path: facts.file }),
    ...(facts.bytes !== undefined && { bytes: facts.bytes }),
    ...(facts.sha256 !== undefined && { sha256: facts.sha256 }),
    ...(facts.mtimeMs !== undefined && { mtime: new Date(facts.mtimeMs).toISOString() }),
    status,
    checks: results,
    facts,
  };
}

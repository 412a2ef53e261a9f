// Locates an artifact's backup through its source, then runs its planned steps in order, as their declarations say.
import { artifactActions } from '../../actions/registry.js';
import { artifactChecks } from '../../checks/registry.js';
import { artifactSources } from '../../sources/registry.js';
import type { ArtifactFacts, ArtifactTarget, CheckContext, CheckOutcome } from '../contract/check.js';
import type { ArtifactSource, BoundSource, LocatedBackup, Location, SourceContext } from '../contract/source.js';
import type { PlannedArtifact, PlannedCheck } from '../plan/types.js';
import type { ArtifactResult, CheckResult } from '../report/types.js';
import { statusAtLevel, worstStatus } from '../util/status.js';

const stepsById = new Map([...artifactChecks, ...artifactActions].map((step) => [step.id, step]));

/** Context shared by every check of a run, minus the check's own options. */
export type SharedCheckContext = Omit<CheckContext<unknown>, 'options'>;

/**
 * Whether every planned step of the artifact only reads (declared `effect: 'read-only'`): such artifacts of a
 * unit may be verified at the same time; one that uses scratch space, runs commands or has side effects runs alone.
 */
export function verifiesReadOnly(artifact: PlannedArtifact): boolean {
  return artifact.checks.every((planned) => {
    const step = stepsById.get(planned.id);
    return step !== undefined && step.effect === 'read-only';
  });
}

/** Verifies one artifact; `onCheck` is told each result as it lands. */
export async function verifyArtifact(
  artifact: PlannedArtifact,
  shared: SharedCheckContext,
  target: Omit<ArtifactTarget, 'facts' | 'located' | 'missing'>,
  onCheck: (result: CheckResult) => void,
): Promise<ArtifactResult & { facts: Partial<ArtifactFacts> }> {
  const sourceCtx: SourceContext<unknown> = {
    options: artifact.source.options,
    exec: shared.exec,
    signal: shared.signal,
    env: shared.env,
    timeoutMs: target.unitTimeoutMs,
  };
  const location = shared.signal.aborted ? undefined : await locate(artifact, sourceCtx);
  const facts: Partial<ArtifactFacts> =
    location?.found === true
      ? {
          file: location.backup.file ?? location.backup.location,
          bytes: location.backup.bytes,
          ...(location.backup.files !== undefined && { files: location.backup.files }),
          mtimeMs: location.backup.completedAtMs,
        }
      : {};
  const located =
    location?.found === true
      ? { located: location.backup, source: bindSource(artifactSources[artifact.source.kind], sourceCtx, location.backup) }
      : location
        ? { missing: location.message }
        : {};
  const results: CheckResult[] = [];
  let stopped: string | undefined;
  for (const planned of artifact.checks) {
    const started = Date.now();
    if (stopped !== undefined || shared.signal.aborted) {
      const reason = shared.signal.aborted ? 'not run: the run was aborted' : `not run: ${stopped} failed`;
      const result = { id: planned.id, target: facts.file ?? artifact.pattern, status: 'skipped', level: planned.level, message: reason, duration_ms: 0 } as const;
      results.push(result);
      onCheck(result);
      continue;
    }
    const outcome = await runStep(planned, shared, { ...target, ...located, facts });
    Object.assign(facts, outcome.facts);
    const result: CheckResult = {
      id: planned.id,
      target: facts.file ?? artifact.pattern,
      status: statusAtLevel(outcome.status, planned.level),
      level: planned.level,
      message: outcome.message,
      ...(outcome.details && outcome.details.length > 0 && { details: outcome.details }),
      duration_ms: Date.now() - started,
    };
    results.push(result);
    onCheck(result);
    if (outcome.status === 'failed' && (planned.stops === 'always' || planned.level === 'error')) stopped = planned.id;
  }
  return {
    pattern: artifact.pattern,
    ...(facts.file !== undefined && { path: facts.file }),
    ...(facts.bytes !== undefined && { bytes: facts.bytes }),
    ...(facts.sha256 !== undefined && { sha256: facts.sha256 }),
    ...(facts.mtimeMs !== undefined && { mtime: new Date(facts.mtimeMs).toISOString() }),
    status: worstStatus(results.map((r) => r.status)),
    checks: results,
    facts,
  };
}

async function locate(artifact: PlannedArtifact, ctx: SourceContext<unknown>): Promise<Location> {
  const source = artifactSources[artifact.source.kind];
  try {
    if (!source) throw new Error(`no artifact source of kind ${artifact.source.kind}`);
    return await source.locate(ctx);
  } catch (error) {
    return { found: false, message: `cannot locate ${artifact.pattern}: ${(error as Error).message}` };
  }
}

/** Hands checks the source's restore and verify for the backup it located, without the source itself. */
function bindSource(source: ArtifactSource<unknown> | undefined, ctx: SourceContext<unknown>, backup: LocatedBackup): BoundSource {
  const bound: BoundSource = {};
  if (source?.restore) {
    const restore = source.restore.bind(source);
    bound.restore = (dir, include) => restore(ctx, backup, dir, include);
  }
  if (source?.verify) {
    const verify = source.verify.bind(source);
    bound.verify = (depth) => verify(ctx, backup, depth);
  }
  return bound;
}

async function runStep(planned: PlannedCheck, shared: SharedCheckContext, target: ArtifactTarget): Promise<CheckOutcome> {
  const step = stepsById.get(planned.id);
  try {
    if (!step) throw new Error(`no check named ${planned.id}`);
    return await step.run({ ...shared, options: planned.options }, target);
  } catch (error) {
    return { status: 'failed', message: `${planned.id} check crashed: ${(error as Error).message}` };
  }
}

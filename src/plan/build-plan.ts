// buildPlan: decides stages, units, checks and concurrency from the config and inventory (pure).
import { loadPicomatch } from '../util/picomatch.js';
import { artifactActions } from '../../actions/registry.js';
import { artifactChecks, preflightChecks } from '../../checks/registry.js';
import { artifactSources } from '../../sources/registry.js';
import type { CommandName, ResolvedArtifact, ResolvedConfig, ResolvedUnit } from '../config/types.js';
import type { ArtifactAction } from '../contract/action.js';
import type { ArtifactCheck, Need } from '../contract/check.js';
import { UsageError } from '../errors.js';
import type { Inventory, Plan, PlanEffects, PlannedArtifact, PlannedCheck, PlannedStage, PlannedUnit } from './types.js';

type ArtifactStep = ArtifactCheck<unknown> | ArtifactAction<unknown>;

// Local checks first, then actions that ship a copy, then checks of the shipped copy; registry order within a phase.
const PHASES: ReadonlyArray<ArtifactStep['phase']> = ['artifact', 'ship', 'offsite'];
const ARTIFACT_STEPS: readonly ArtifactStep[] = PHASES.flatMap((phase) =>
  [...artifactChecks, ...artifactActions].filter((step: ArtifactStep) => step.phase === phase),
);

/** audit changes nothing and reads no backup's bytes: it runs read-only steps that need only facts and history. */
const INSPECT_ONLY_NEEDS: ReadonlySet<Need> = new Set(['facts', 'history']);
const ALL_EFFECTS: PlanEffects = { lock: true, runRecord: true, history: true, deliver: true };
const NO_EFFECTS: PlanEffects = { lock: false, runRecord: false, history: false, deliver: false };

/** Builds the plan of `command`. Throws UsageError for --only/--skip names that match no unit. */
export function buildPlan(config: ResolvedConfig, inventory: Inventory, command: CommandName = config.options.command): Plan {
  const runsUnits = command === 'orchestrate';
  const inspectOnly = command === 'audit';
  const notes: string[] = [];
  const expanded: PlannedStage[] = config.stages.map((stage) => ({
    name: stage.name,
    level: stage.level,
    concurrency: stage.concurrency ?? Number.MAX_SAFE_INTEGER,
    units: stage.units.flatMap((unit) => expandUnit(unit, inventory, runsUnits, notes)).map((unit) => planUnit(unit, command, runsUnits, inspectOnly)),
  }));

  const allNames = expanded.flatMap((stage) => stage.units.map((unit) => unit.name));
  const { only, skip } = config.options;
  const unknown = [...only, ...skip].filter((name) => !allNames.includes(name) && !expanded.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown unit or stage ${unknown.map((n) => `"${n}"`).join(', ')} in --only/--skip; units are: ${allNames.join(', ')}`,
    );
  }
  const excluded: string[] = [];
  const selected = (unit: PlannedUnit): boolean => {
    const named = (list: string[]): boolean => list.includes(unit.name) || list.includes(unit.stage);
    const keep = (only.length === 0 || named(only)) && !named(skip);
    if (!keep) excluded.push(unit.name);
    return keep;
  };
  const stages = expanded
    .map((stage) => {
      const units = stage.units.filter(selected);
      return { ...stage, units, concurrency: Math.max(1, Math.min(stage.concurrency, units.length)) };
    })
    .filter((stage) => stage.units.length > 0);
  if (stages.length === 0) {
    throw new UsageError('nothing to do: no unit is left after --only/--skip, and "nothing to do" never passes the gate');
  }

  const preflight = config.preflight.flatMap((item) => {
    const check = preflightChecks[item.kind];
    if (inspectOnly && check?.effect !== 'read-only') return [];
    return [{ id: item.kind, level: item.level, item, description: check ? check.describe(item) : item.kind }];
  });
  return { command, runsUnits, effects: inspectOnly ? NO_EFFECTS : ALL_EFFECTS, preflight, stages, excluded, notes };
}

function expandUnit(unit: ResolvedUnit, inventory: Inventory, runsUnits: boolean, notes: string[]): ResolvedUnit[] {
  if (unit.action.kind !== 'systemd-match') return [unit];
  const services = inventory.systemdServices[unit.host ?? ''];
  if (services === undefined) {
    if (runsUnits) throw new UsageError(`cannot expand systemd match "${unit.action.match}": the service list of ${unit.host ?? 'this machine'} is unknown`);
    return [unit];
  }
  const isMatch = loadPicomatch()(unit.action.match);
  const exclude = new Set(unit.action.exclude);
  const found = services.filter((service) => isMatch(service) && !exclude.has(service)).sort();
  if (found.length === 0) {
    throw new UsageError(
      `systemd match "${unit.action.match}" in stage ${unit.stage} found no service on ${unit.host ?? 'this machine'}; "nothing to do" never passes the gate`,
    );
  }
  notes.push(`systemd match "${unit.action.match}" expanded to ${found.length} unit(s): ${found.join(', ')}`);
  return found.map((service) => ({ ...unit, name: service, action: { kind: 'systemd', service } }));
}

function planUnit(unit: ResolvedUnit, command: CommandName, runsUnits: boolean, inspectOnly: boolean): PlannedUnit {
  return {
    name: unit.name,
    stage: unit.stage,
    action: unit.action,
    ...(unit.host !== undefined && { host: unit.host }),
    cwd: unit.cwd,
    env: unit.env,
    ...(unit.envFile !== undefined && { envFile: unit.envFile }),
    timeoutMs: unit.timeoutMs,
    killGraceMs: unit.killGraceMs,
    retries: unit.retries,
    retryDelayMs: unit.retryDelayMs,
    logMaxBytes: unit.logMaxBytes,
    critical: unit.critical,
    level: unit.level,
    ifRunning: unit.ifRunning,
    artifacts: unit.artifacts.map((artifact) => planArtifact(artifact, command, runsUnits, inspectOnly)),
  };
}

/** Chooses an artifact's steps: those whose needs its source and the command provide, and that select themselves. */
export function planArtifact(artifact: ResolvedArtifact, command: CommandName, runsUnits: boolean, inspectOnly: boolean): PlannedArtifact {
  const source = artifactSources[artifact.source.kind];
  if (!source) throw new UsageError(`${artifact.pattern}: artifacts of kind ${artifact.source.kind} are not supported by this build`);
  const available = new Set<Need>(['facts', 'history', 'host', ...source.provides, ...(runsUnits ? (['unit-start'] as const) : [])]);
  const checks = ARTIFACT_STEPS.flatMap((step): PlannedCheck[] => {
    if (!step.needs.every((need) => available.has(need))) return [];
    if (inspectOnly && (step.effect !== 'read-only' || !step.needs.every((need) => INSPECT_ONLY_NEEDS.has(need)))) return [];
    const chosen = step.select(step.config ? artifact.options[step.config.key] : undefined, artifact, command);
    return chosen ? [{ id: step.id, level: chosen.level, options: chosen.options, description: step.describe(chosen.options), stops: step.stops }] : [];
  });
  return { pattern: artifact.pattern, source: artifact.source, checks };
}

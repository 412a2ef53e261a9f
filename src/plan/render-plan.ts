// Shows a Plan to people (`plan`, `orchestrate --dry-run`) and serialises it for machines.
import { formatDuration } from '../util/duration.js';
import { maskEnv } from '../util/secrets.js';
import type { Plan, PlannedUnit } from './types.js';

/** What a unit does, in one line: `run "/bin/x" "--full" on nas`, `systemd restic.service, if running: wait`. */
export function describeUnitAction(unit: PlannedUnit): string {
  const where = unit.host ? ` on ${unit.host}` : '';
  switch (unit.action.kind) {
    case 'run':
      return `run ${unit.action.argv.map((a) => JSON.stringify(a)).join(' ')}${where}`;
    case 'shell':
      return `shell (opt-in) ${JSON.stringify(unit.action.script)}${where}`;
    case 'systemd':
      return `systemd ${unit.action.service}${where}, if running: ${unit.ifRunning}`;
    case 'systemd-match':
      return `systemd match ${unit.action.match}${where}`;
    case 'sqlite_backup':
      return `sqlite_backup ${unit.action.source} -> ${unit.action.dest}`;
  }
}

/** The plan as indented text lines. */
export function renderPlanText(plan: Plan): string[] {
  const lines = [`plan of rearguard ${plan.command}${plan.runsUnits ? '' : ' (no unit is run; artifacts are checked in place)'}:`];
  if (plan.preflight.length > 0) {
    lines.push('pre-flight (all at once):');
    for (const p of plan.preflight) lines.push(`  - ${p.id}: ${p.description}${p.level === 'warning' ? ' [warning]' : ''}`);
  }
  plan.stages.forEach((stage, i) => {
    lines.push(`stage ${i + 1} ${stage.name}: ${stage.units.length} unit(s), up to ${stage.concurrency} at once${stage.level === 'warning' ? ', warning level (cannot make the run critical)' : ''}`);
    for (const unit of stage.units) {
      const flags = [unit.critical ? 'critical' : '', unit.retries > 0 ? `retries ${unit.retries}` : ''].filter(Boolean).join(', ');
      lines.push(`  - ${unit.name}: ${describeUnitAction(unit)}; timeout ${formatDuration(unit.timeoutMs)}${flags ? `; ${flags}` : ''}`);
      const env = maskEnv(unit.env);
      if (Object.keys(env).length > 0) lines.push(`      env: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      if (unit.envFile) lines.push(`      env_file: ${unit.envFile}`);
      for (const artifact of unit.artifacts) {
        lines.push(`      artifact ${artifact.pattern}`);
        for (const check of artifact.checks) lines.push(`        · ${check.id}: ${check.description}${check.level === 'warning' ? ' [warning]' : ''}`);
      }
    }
  });
  if (plan.excluded.length > 0) lines.push(`left out by --only/--skip: ${plan.excluded.join(', ')}`);
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return lines;
}

/** The plan as JSON (rearguard.plan/v1), with secret env values masked. */
export function serializePlan(plan: Plan): string {
  const { effects: _effects, ...shown } = plan;
  const masked = {
    schema: 'rearguard.plan/v1',
    ...shown,
    stages: plan.stages.map((stage) => ({
      ...stage,
      units: stage.units.map((unit) => ({
        ...unit,
        env: maskEnv(unit.env),
        artifacts: unit.artifacts.map((artifact) => ({
          pattern: artifact.pattern,
          checks: artifact.checks.map(({ stops: _stops, ...check }) => check),
        })),
      })),
    })),
  };
  return `${JSON.stringify(masked, null, 2)}\n`;
}

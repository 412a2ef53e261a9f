// The fields that name a unit in every UnitResult, whoever produces it (engine, skipped units, audit).
import type { PlannedUnit } from '../plan/types.js';
import type { UnitResult } from '../report/types.js';

/** The identity of `unit` as the report shows it: name, stage, kind, host, level, critical. */
export function unitIdentity(unit: PlannedUnit): Pick<UnitResult, 'name' | 'stage' | 'kind' | 'host' | 'level' | 'critical'> {
  return {
    name: unit.name,
    stage: unit.stage,
    kind: unit.action.kind,
    ...(unit.host !== undefined && { host: unit.host }),
    level: unit.level,
    critical: unit.critical,
  };
}

// Chooses the action of a unit by its kind.
import type { PlannedUnit } from '../../plan/types.js';
import { runProcessAction } from './process.js';
import { runSystemdAction } from './systemd.js';
import type { Action } from './types.js';

/** The action that runs `unit`. */
export function actionFor(unit: PlannedUnit): Action {
  switch (unit.action.kind) {
    case 'run':
    case 'shell':
      return runProcessAction;
    case 'systemd':
      return runSystemdAction;
    case 'sqlite_backup':
      // The SQLite driver loads with the first sqlite_backup unit, not with every run.
      return async (...args) => (await import('./sqlite-backup.js')).runSqliteBackupAction(...args);
    default:
      return () => Promise.resolve({ status: 'failed', exitCode: null, message: `${unit.action.kind} units are not supported by this build` });
  }
}

// Which live view a terminal gets: the listr2 tree while it fits the screen, the compact frame otherwise.
import type { Plan } from '../plan/types.js';

/** The two live views of a run on a terminal. */
export type LiveView = 'tree' | 'compact';

/** Log lines the tree shows under a unit that did not pass (render-listr.ts). */
const TREE_LOG_LINES = 5;

/**
 * The most lines the listr2 tree can take for `plan`: the pre-flight group, and per stage its title and per
 * unit its title, one line per planned step and the log lines shown when it fails.
 */
export function estimateTreeHeight(plan: Plan): number {
  let lines = plan.preflight.length > 0 ? 1 + plan.preflight.length : 0;
  for (const stage of plan.stages) {
    lines += 1;
    for (const unit of stage.units) lines += 1 + TREE_LOG_LINES + unit.artifacts.reduce((n, artifact) => n + artifact.checks.length, 0);
  }
  return lines;
}

/** The tree when all of it fits above the cursor's row; otherwise the compact frame, which never outgrows the screen. */
export function chooseLiveView(plan: Plan, rows: number): LiveView {
  return rows > 0 && estimateTreeHeight(plan) <= rows - 1 ? 'tree' : 'compact';
}

// Text pieces shared by renderers: status words, the summary table, the verdict line.
import type { ChalkInstance } from 'chalk';
import type { RunReport, UnitResult } from './types.js';
import { formatDuration } from '../util/duration.js';

/** The verdict line, always printed last: "verdict: ok (exit 0): all 3 unit(s) and 9 check(s) passed". */
export function formatVerdictLine(report: Pick<RunReport, 'verdict' | 'exit_code' | 'reason'>): string {
  return `verdict: ${report.verdict} (exit ${report.exit_code}): ${report.reason}`;
}

/** A fixed-width table of every unit, for the end of a run. */
export function formatSummaryTable(report: RunReport): string[] {
  const rows: string[][] = [['STAGE', 'UNIT', 'STATUS', 'TIME', 'DETAIL']];
  for (const stage of report.stages) {
    for (const unit of stage.units) rows.push([stage.name, unit.name, statusWord(unit), formatDuration(unit.duration_ms), unit.message]);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i < 4 ? cell.padEnd(widths[i] ?? 0) : cell.length > 120 ? `${cell.slice(0, 117)}...` : cell))
      .join('  ')
      .trimEnd(),
  );
}

/** The status of a unit, with "(warning level)" for failures that cannot fail the gate. */
export function statusWord(unit: UnitResult): string {
  const failed = unit.status === 'failed' || unit.status === 'timeout';
  return failed && unit.level === 'warning' ? `${unit.status} (warning level)` : unit.status;
}

/** What a live renderer prints once its tree or frame is gone: the summary table, then the verdict in colour. */
export function formatRunEnd(report: RunReport, chalk: ChalkInstance): string[] {
  const paint = report.verdict === 'ok' ? chalk.green : report.verdict === 'partial' ? chalk.yellow : chalk.red;
  return ['', ...formatSummaryTable(report), '', paint(formatVerdictLine(report))];
}

// The compact live frame (pure): a progress header, the stage, the running units, the counts; never taller than the
// terminal allows, no line wider than it. Also the lines that stay above the frame when a unit fails.
import { stripVTControlCharacters } from 'node:util';
import type { ChalkInstance } from 'chalk';
import { formatDuration } from '../util/duration.js';
import { countQueued, type LiveState, type RunningUnit } from './live-state.js';
import { statusWord } from './summary.js';
import type { CheckResult, UnitResult } from './types.js';

/** Where and when the frame is drawn. */
export interface FrameView {
  now: number;
  rows: number;
  columns: number;
  chalk: ChalkInstance;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** A running unit whose elapsed time passed this share of its timeout is shown in yellow. */
const NEAR_TIMEOUT = 0.8;
/** Log lines shown under a failed unit. */
const LOG_TAIL_LINES = 5;

/** Cuts `text` to `width` columns, ending with "…" when something was cut. */
export function fitText(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return `${chars.slice(0, width - 1).join('')}…`;
}

const widthOf = (text: string): number => [...text].length;

/**
 * Text from a unit's output as one line that only prints: escape sequences removed, tabs, carriage returns
 * and newlines made spaces, other control characters dropped. A carriage return or a cursor move in a log line would otherwise move the cursor
 * the frame is measured from.
 */
export function printable(text: string): string {
  // Whitespace controls become a space; any other control left once the escape sequences are gone (a bell
  // ending one, which Node versions strip differently) is dropped.
  return (
    stripVTControlCharacters(text)
      .replace(/[\t\n\v\f\r]/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
  );
}

/** The first of `candidates` that fits `width`, else the last one cut to it. */
function firstFitting(candidates: string[], width: number): string {
  return candidates.find((c) => widthOf(c) <= width) ?? fitText(candidates[candidates.length - 1] ?? '', width);
}

function formatHeader(state: LiveState, now: number, width: number): string {
  const { ok, warning, failed, skipped } = state.done;
  const done = ok + warning + failed + skipped;
  const queued = countQueued(state);
  const elapsed = formatElapsed(now - state.startedAt);
  const running = state.running.size;
  return firstFitting(
    [
      `rearguard ${state.command}  ${done}/${state.total} done · ${running} running · ${queued} queued · ${failed} failed · ${elapsed}`,
      `${done}/${state.total} done · ${running} running · ${queued} queued · ${failed} failed · ${elapsed}`,
      `${done}/${state.total} done ${running} run ${queued} queued ${failed} failed ${elapsed}`,
    ],
    width,
  );
}

function formatStageLine(state: LiveState, width: number): string {
  const { stage, preflight } = state;
  if (!stage) return fitText(`pre-flight: ${preflight.done} of ${preflight.total} check(s) done`, width);
  const level = stage.level === 'warning' ? ', warning level' : '';
  return firstFitting(
    [`stage ${stage.name} (${stage.index} of ${state.stageCount}), up to ${stage.concurrency} at once${level}`, `stage ${stage.name} (${stage.index}/${state.stageCount})`],
    width,
  );
}

function formatCounts(state: LiveState): string {
  const { ok, warning, failed, skipped } = state.done;
  const parts = [`✔ ${ok} passed`];
  if (warning > 0) parts.push(`⚠ ${warning} warning`);
  if (failed > 0) parts.push(`✖ ${failed} failed`);
  if (skipped > 0) parts.push(`– ${skipped} skipped`);
  parts.push(`${countQueued(state)} queued`);
  return parts.join(' · ');
}

/**
 * "✖ failed: a, b, c" while all names fit; otherwise the newest first, as many as fit:
 * "✖ 12 failed, newest first: l, k, j, …".
 */
function formatFailedNames(names: readonly string[], width: number): string {
  const all = `✖ failed: ${names.join(', ')}`;
  if (widthOf(all) <= width) return all;
  let line = `✖ ${names.length} failed, newest first:`;
  for (const [i, name] of [...names].reverse().entries()) {
    const next = `${line}${i === 0 ? ' ' : ', '}${name}`;
    if (widthOf(next) + 3 > width) return fitText(`${line}${i === 0 ? ' ' : ', '}…`, width);
    line = next;
  }
  return fitText(line, width);
}

/** Time that keeps running, in steps of a tenth of a second: "0.4s", "12.3s", "4m05s". */
function formatElapsed(ms: number): string {
  const elapsed = Math.max(0, ms);
  return elapsed < 60_000 ? `${(Math.floor(elapsed / 100) / 10).toFixed(1)}s` : formatDuration(elapsed);
}

/** The elapsed time and, when the unit has one, " / timeout 5m00s"; `near` when most of the timeout is used. */
function formatTimes(unit: RunningUnit, now: number): { elapsed: string; timeout: string; near: boolean } {
  const elapsed = Math.max(0, now - unit.startedAt);
  if (unit.timeoutMs === undefined) return { elapsed: formatElapsed(elapsed), timeout: '', near: false };
  return { elapsed: formatElapsed(elapsed), timeout: ` / timeout ${formatDuration(unit.timeoutMs)}`, near: elapsed >= unit.timeoutMs * NEAR_TIMEOUT };
}

function formatRunning(units: RunningUnit[], view: FrameView, width: number): string[] {
  const { chalk, now } = view;
  const spinner = SPINNER[Math.floor(now / 100) % SPINNER.length] ?? '-';
  const rows = units.map((unit) => ({ unit, times: formatTimes(unit, now), name: unit.attempt > 1 ? `${unit.name} (attempt ${unit.attempt})` : unit.name }));
  // Columns: name (as wide as the longest, cut so that the times always fit), elapsed (right-aligned), timeout.
  const elapsedWidth = Math.max(0, ...rows.map((r) => widthOf(r.times.elapsed)));
  const timesWidth = elapsedWidth + Math.max(0, ...rows.map((r) => widthOf(r.times.timeout)));
  const nameWidth = Math.max(0, ...rows.map((r) => widthOf(r.name)));
  const prefix = `  ${spinner} `;
  const column = Math.max(1, Math.min(nameWidth, width - widthOf(prefix) - 2 - timesWidth));
  return rows.map(({ unit, times, name }) => {
    const namePart = `${prefix}${fitText(name, column).padEnd(column)}  `;
    const timesPart = `${times.elapsed.padStart(elapsedWidth)}${times.timeout}`;
    // Too narrow for the columns: the line is cut as a whole.
    if (widthOf(namePart) + timesWidth > width) return fitText(`${namePart}${timesPart}`, width);
    const spare = width - widthOf(namePart) - widthOf(timesPart) - 2;
    const tail = unit.lastLine && spare > 3 ? chalk.dim(`  ${fitText(printable(unit.lastLine), spare)}`) : '';
    return `${namePart}${times.near ? chalk.yellow(timesPart) : chalk.dim(timesPart)}${tail}`;
  });
}

/**
 * The live frame: at most `rows - 1` lines (the cursor keeps the last row, so the screen never scrolls under
 * the frame), each narrower than `columns`. Priority when rows are short: the header, then the counts, then
 * the names of the failed units, then the stage, then as many running units (oldest first) as fit, the rest
 * counted in one line.
 */
export function buildCompactFrame(state: LiveState, view: FrameView): string[] {
  const { chalk } = view;
  const width = Math.max(1, view.columns - 1);
  const budget = Math.max(1, view.rows - 1);
  const header = formatHeader(state, view.now, width);
  const lines = [state.done.failed > 0 ? chalk.bold(header.replace(/ (\d+) failed/, (m) => chalk.red(m))) : chalk.bold(header)];
  if (budget === 1) return lines;
  const counts = fitText(formatCounts(state), width);
  // Failures stay in the frame by name even when the lines printed above it have scrolled away.
  const failed = state.failedNames.length > 0 && budget >= 3 ? [chalk.red(formatFailedNames(state.failedNames, width))] : [];
  const stage = budget - failed.length >= 4 ? [chalk.dim(formatStageLine(state, width))] : [];
  const room = budget - 2 - failed.length - stage.length;
  const running = [...state.running.values()].sort((a, b) => a.startedAt - b.startedAt);
  let shown: RunningUnit[] = running;
  let more: string[] = [];
  if (running.length > room) {
    shown = running.slice(0, Math.max(0, room - 1));
    more = room >= 1 ? [chalk.dim(fitText(`  … and ${running.length - shown.length} more running`, width))] : [];
  }
  return [...lines, ...stage, ...formatRunning(shown, view, width), ...more, ...failed, chalk.dim(counts)];
}

function paintStatus(chalk: ChalkInstance, status: string): (text: string) => string {
  if (status === 'warning') return chalk.yellow;
  if (status === 'skipped') return chalk.dim;
  return status === 'ok' ? chalk.green : chalk.red;
}

/**
 * The lines printed above the frame when a unit ends other than ok (a failure, a timeout, a warning): they stay
 * on the screen and in the scrollback, so no failure scrolls away with the frame. Not cut: the terminal wraps them.
 */
export function formatUnitOutcome(result: UnitResult, checks: CheckResult[], chalk: ChalkInstance): string[] {
  const paint = paintStatus(chalk, result.status === 'timeout' ? 'failed' : result.status);
  const mark = result.status === 'warning' ? '⚠' : '✖';
  const lines = [paint(`${mark} ${result.stage}/${result.name} ${statusWord(result)} in ${formatDuration(result.duration_ms)}: ${printable(result.message)}`)];
  for (const check of checks.filter((c) => c.status === 'failed' || c.status === 'warning')) {
    lines.push(paintStatus(chalk, check.status)(`    ${check.id} ${check.target}: ${check.status}: ${printable(check.message)}`));
  }
  for (const line of result.log_tail?.slice(-LOG_TAIL_LINES) ?? []) lines.push(chalk.dim(`    | ${printable(line)}`));
  return lines;
}

/** The line printed above the frame for a pre-flight check that did not pass. */
export function formatPreflightOutcome(result: CheckResult, chalk: ChalkInstance): string {
  const mark = result.status === 'failed' ? '✖' : '⚠';
  return paintStatus(chalk, result.status)(`${mark} pre-flight ${result.id} ${result.target}: ${result.status}: ${printable(result.message)}`);
}

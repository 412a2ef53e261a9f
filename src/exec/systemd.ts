// A small systemctl client over Exec: list services, read a unit's state, start/restart and stop it.
import { formatDuration } from '../util/duration.js';
import { describeFailure, succeeded, type Exec, type ProcessResult } from './types.js';

/** How systemctl is reached: the argv prefix (defaults.systemctl), and the host when it runs over SSH. */
export interface SystemctlOptions {
  /** e.g. ["systemctl"], ["systemctl", "--user"], ["sudo", "systemctl"]. */
  prefix: string[];
  host?: string;
  env: Record<string, string>;
  killGraceMs: number;
}

/** The state of a unit, from `systemctl show`. Result and ExecMainStatus only where the manager provides them. */
export interface UnitState {
  loadState: string;
  activeState: string;
  subState: string;
  mainPid: number;
  result?: string;
  execMainStatus?: number;
}

/** A systemctl call that did not give an answer: what was run and what happened. */
export interface SystemctlError {
  error: string;
}

/** The client a run uses for systemd units and the `idle` pre-flight check. */
export interface Systemctl {
  /** The argv of `systemctl <args>` with the configured prefix. */
  argv(args: string[]): string[];
  /** Services known to the manager: unit files plus loaded units (templates, masked and not-found ones left out). */
  listServices(timeoutMs: number, signal?: AbortSignal): Promise<{ services: string[] } | SystemctlError>;
  /** Reads LoadState, ActiveState, SubState, MainPID, Result and ExecMainStatus. */
  show(unit: string, timeoutMs: number, signal?: AbortSignal): Promise<UnitState | SystemctlError>;
  /** `start` (or `restart`) and wait for systemctl to return; a oneshot service's start returns when it has finished. */
  start(unit: string, verb: 'start' | 'restart', timeoutMs: number, signal?: AbortSignal): Promise<ProcessResult>;
  /** `stop`; never given the run's abort signal, so a unit is still stopped while the run is being aborted. */
  stop(unit: string, timeoutMs: number): Promise<ProcessResult>;
}

/** Time allowed to control commands (list, show); a manager that takes longer is not answering. */
export const CONTROL_TIMEOUT_MS = 30_000;
/** Time allowed to `stop`: systemd's default TimeoutStopSec (90s) before it kills, plus a margin. */
export const STOP_TIMEOUT_MS = 120_000;

const LIST_FLAGS = ['--type=service', '--all', '--no-legend', '--plain', '--no-pager'];
const SHOWN = ['LoadState', 'ActiveState', 'SubState', 'MainPID', 'Result', 'ExecMainStatus'];

/** Builds the client; every call goes through `exec.run`, or `exec.runRemote` when a host is set. */
export function createSystemctl(exec: Exec, options: SystemctlOptions): Systemctl {
  const argv = (args: string[]): string[] => [...options.prefix, ...args];
  const call = (args: string[], timeoutMs: number, signal?: AbortSignal): Promise<ProcessResult> => {
    const spec = {
      argv: argv(args),
      env: options.env,
      timeoutMs,
      killGraceMs: options.killGraceMs,
      ...(signal && { signal }),
    };
    return options.host === undefined ? exec.run(spec) : exec.runRemote(options.host, spec);
  };
  const where = options.host === undefined ? '' : ` on ${options.host}`;
  const failure = (args: string[], result: ProcessResult, timeoutMs: number): SystemctlError => {
    const said = lastLine(result.output);
    return {
      error: `${argv(args).join(' ')}${where}: ${describeFailure(result, formatDuration(timeoutMs))}${said ? `: ${said}` : ''}`,
    };
  };

  return {
    argv,
    async listServices(timeoutMs, signal) {
      const files = ['list-unit-files', ...LIST_FLAGS];
      const loaded = ['list-units', ...LIST_FLAGS];
      const fromFiles = await call(files, timeoutMs, signal);
      if (!succeeded(fromFiles)) return failure(files, fromFiles, timeoutMs);
      const fromUnits = await call(loaded, timeoutMs, signal);
      if (!succeeded(fromUnits)) return failure(loaded, fromUnits, timeoutMs);
      const services = new Set([...parseUnitFileList(fromFiles.output), ...parseUnitList(fromUnits.output)]);
      return { services: [...services].sort() };
    },
    async show(unit, timeoutMs, signal) {
      // Plain `show` (no -p): the daemonless systemctl honours only one -p, so one call that both
      // managers answer the same way is read instead.
      const args = ['show', '--no-pager', '--', unit];
      const result = await call(args, timeoutMs, signal);
      if (!succeeded(result)) return failure(args, result, timeoutMs);
      const state = toUnitState(parseShowOutput(result.output));
      return state ?? { error: `${argv(args).join(' ')}${where}: expected ActiveState=... in the output, got: ${lastLine(result.output) || 'nothing'}` };
    },
    start: (unit, verb, timeoutMs, signal) => call([verb, '--', unit], timeoutMs, signal),
    stop: (unit, timeoutMs) => call(['stop', '--', unit], timeoutMs),
  };
}

/** Parses `list-unit-files --plain --no-legend`: "name state [preset]" per line. */
export function parseUnitFileList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const tokens = unitTokens(line);
    if (!tokens) continue;
    const [name, state] = tokens;
    if (name.includes('@.') || state === 'masked') continue;
    out.push(name);
  }
  return out;
}

/** Parses `list-units --plain --no-legend`: "name load active sub description" per line. */
export function parseUnitList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const tokens = unitTokens(line);
    if (!tokens) continue;
    const [name, load] = tokens;
    if (name.includes('@.') || load === 'not-found' || load === 'masked') continue;
    out.push(name);
  }
  return out;
}

/** The tokens of a list line starting at the service name; status markers like "●" or "*" are skipped. */
function unitTokens(line: string): [string, string | undefined] | undefined {
  const tokens = line.trim().split(/\s+/).filter(Boolean);
  const at = tokens.findIndex((token) => token.endsWith('.service'));
  // The name is the first or, after a marker column, the second token; anything later is a description.
  if (at < 0 || at > 1) return undefined;
  return [tokens[at]!, tokens[at + 1]];
}

/** Parses `systemctl show` output (Key=Value lines). */
export function parseShowOutput(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (SHOWN.includes(key) && !(key in props)) props[key] = line.slice(eq + 1).trim();
  }
  return props;
}

/** Turns show properties into a UnitState; undefined when ActiveState is missing (not an answer). */
export function toUnitState(props: Record<string, string>): UnitState | undefined {
  const activeState = props.ActiveState;
  if (!activeState) return undefined;
  const mainPid = Number.parseInt(props.MainPID ?? '0', 10);
  const status = props.ExecMainStatus === undefined || props.ExecMainStatus === '' ? undefined : Number.parseInt(props.ExecMainStatus, 10);
  return {
    loadState: props.LoadState ?? 'loaded',
    activeState,
    subState: props.SubState ?? '',
    mainPid: Number.isFinite(mainPid) ? mainPid : 0,
    ...(props.Result && { result: props.Result }),
    ...(status !== undefined && Number.isFinite(status) && { execMainStatus: status }),
  };
}

/**
 * True while the unit is doing work: starting or stopping, or active with a live main process.
 * A oneshot that has finished but stays "active" (RemainAfterExit, and the daemonless systemctl's
 * bookkeeping) is not busy.
 */
export function isBusy(state: UnitState): boolean {
  if (['activating', 'deactivating', 'reloading', 'refreshing'].includes(state.activeState)) return true;
  return state.activeState === 'active' && state.subState === 'running' && state.mainPid > 0;
}

/** Describes a state for messages: "ActiveState=failed, SubState=failed, Result=exit-code, ExecMainStatus=3". */
export function describeState(state: UnitState): string {
  const parts = [`ActiveState=${state.activeState}`];
  if (state.subState) parts.push(`SubState=${state.subState}`);
  if (state.mainPid > 0) parts.push(`MainPID=${state.mainPid}`);
  if (state.result !== undefined) parts.push(`Result=${state.result}`);
  if (state.execMainStatus !== undefined) parts.push(`ExecMainStatus=${state.execMainStatus}`);
  return parts.join(', ');
}

/** True when a call gave no answer. */
export function isSystemctlError(value: object): value is SystemctlError {
  return 'error' in value;
}

/** The last non-empty line of some output, trimmed to a readable length. */
export function lastLine(output: string): string {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

// systemd units: if_running, start, wait within the unit's timeout, stop on timeout or abort, result from `show`.
import { sleepUnlessAborted } from '../../util/backoff.js';
import { appendFile } from 'node:fs/promises';
import {
  CONTROL_TIMEOUT_MS,
  STOP_TIMEOUT_MS,
  createSystemctl,
  describeState,
  isBusy,
  isSystemctlError,
  lastLine,
  type Systemctl,
  type UnitState,
} from '../../exec/systemd.js';
import { describeFailure, succeeded, type ProcessResult } from '../../exec/types.js';
import { formatDuration } from '../../util/duration.js';
import type { ActionContext, ActionResult } from './types.js';

const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 5_000;

/** Runs a `systemd` unit through defaults.systemctl, locally or on the unit's host. */
export async function runSystemdAction(ctx: ActionContext): Promise<ActionResult> {
  const { unit } = ctx;
  if (unit.action.kind !== 'systemd') return { status: 'failed', exitCode: null, message: `not a systemd unit: ${unit.action.kind}` };
  const service = unit.action.service;
  const deadline = Date.now() + unit.timeoutMs;
  const systemctl = createSystemctl(ctx.exec, {
    prefix: ctx.systemctl,
    ...(unit.host !== undefined && { host: unit.host }),
    env: ctx.env,
    killGraceMs: unit.killGraceMs,
  });
  const step = { ctx, systemctl, service, deadline };

  const before = await readState(step);
  if ('status' in before) return before;
  if (before.loadState === 'not-found' || before.loadState === 'masked') {
    return failed(`${service} cannot be started: LoadState=${before.loadState}; check the name with \`${systemctl.argv(['list-unit-files', '--type=service']).join(' ')}\``);
  }
  if (isBusy(before)) return handleRunning(step, before);

  // A oneshot with RemainAfterExit stays "active" after it finished, and `start` would then do
  // nothing at all; `restart` makes the backup run again.
  const verb = before.activeState === 'active' ? 'restart' : 'start';
  await ctx.note(`${systemctl.argv([verb, '--', service]).join(' ')}${where(ctx)} (${describeState(before)})`);
  const started = await systemctl.start(service, verb, Math.max(1, deadline - Date.now()), ctx.signal);
  await appendOutput(ctx, started);
  const timedOut = `${service} timed out after ${formatDuration(unit.timeoutMs)}`;
  if (started.aborted) return stopAfter(step, 'aborted', `${service} was interrupted: the run was aborted`);
  if (started.timedOut) return stopAfter(step, 'timeout', timedOut);
  if (started.startError) return failed(started.startError);

  // `start` returns when a oneshot has finished; a simple service may still be running.
  const after = await waitWhileBusy(step);
  if (after === 'aborted') return stopAfter(step, 'aborted', `${service} was interrupted: the run was aborted`);
  if (after === 'timeout') return stopAfter(step, 'timeout', timedOut);
  if ('status' in after) return after;
  return decideResult(service, after, started);
}

interface Step {
  ctx: ActionContext;
  systemctl: Systemctl;
  service: string;
  deadline: number;
}

/** if_running: the unit is already doing work, started by a timer or someone else. */
async function handleRunning(step: Step, state: UnitState): Promise<ActionResult> {
  const { ctx, service } = step;
  const running = `${service} is already running (${describeState(state)})`;
  if (ctx.unit.ifRunning === 'skip') {
    await ctx.note(`${running}; if_running: skip`);
    return { status: 'skipped', exitCode: null, message: `skipped: ${running} and if_running is skip` };
  }
  if (ctx.unit.ifRunning === 'fail') {
    await ctx.note(`${running}; if_running: fail`);
    return failed(`${running} and if_running is fail; let it finish, or set if_running: wait`);
  }
  await ctx.note(`${running}; if_running: wait, following that run`);
  const after = await waitWhileBusy(step);
  // That run was not started by rearguard: it is left alone on timeout and on abort.
  if (after === 'aborted') return { status: 'aborted', exitCode: null, message: `stopped waiting for the run of ${service} already in progress (left running)` };
  if (after === 'timeout') {
    return {
      status: 'timeout',
      exitCode: null,
      message: `the run of ${service} already in progress did not finish within ${formatDuration(ctx.unit.timeoutMs)}; it was not started by rearguard and was left running`,
    };
  }
  if ('status' in after) return after;
  const result = decideResult(service, after);
  return { ...result, message: `followed the run already in progress: ${result.message}` };
}

/** Polls `show` until the unit is no longer busy, the deadline passes, or the run is aborted. */
async function waitWhileBusy(step: Step): Promise<UnitState | ActionResult | 'timeout' | 'aborted'> {
  let delay = POLL_FIRST_MS;
  for (;;) {
    if (step.ctx.signal.aborted) return 'aborted';
    const state = await readState(step);
    if ('status' in state) return step.ctx.signal.aborted ? 'aborted' : state;
    if (!isBusy(state)) return state;
    const left = step.deadline - Date.now();
    if (left <= 0) return 'timeout';
    if (!(await sleepUnlessAborted(Math.min(delay, left), step.ctx.signal))) return 'aborted';
    delay = Math.min(delay * 2, POLL_MAX_MS);
  }
}

/** Reads the unit's state, as an ActionResult when systemctl gave no answer. */
async function readState(step: Step): Promise<UnitState | ActionResult> {
  if (step.ctx.signal.aborted) return { status: 'aborted', exitCode: null, message: `${step.service} was not started: the run was aborted` };
  const state = await step.systemctl.show(step.service, CONTROL_TIMEOUT_MS, step.ctx.signal);
  if (isSystemctlError(state)) {
    await step.ctx.note(state.error);
    const hint = step.ctx.unit.host === undefined ? 'check defaults.systemctl' : `check that ${step.ctx.unit.host} is reachable and defaults.systemctl works there`;
    return failed(`cannot read the state of ${step.service}: ${state.error}; ${hint}`);
  }
  return state;
}

/** Stops the unit rearguard started (timeout or abort) and reports how that went. */
async function stopAfter(step: Step, status: 'timeout' | 'aborted', message: string): Promise<ActionResult> {
  const { ctx, systemctl, service } = step;
  await ctx.note(`${systemctl.argv(['stop', '--', service]).join(' ')}${where(ctx)}`);
  const stopped = await systemctl.stop(service, STOP_TIMEOUT_MS);
  await appendOutput(ctx, stopped);
  if (succeeded(stopped)) return { status, exitCode: null, message: `${message}; the unit was stopped` };
  const said = describeFailure(stopped, formatDuration(STOP_TIMEOUT_MS));
  return { status, exitCode: null, message: `${message}; stopping the unit failed (systemctl stop ${said}): check it by hand` };
}

/** The unit's own result: Result/ExecMainStatus where the manager provides them, else ActiveState and systemctl's exit status. */
function decideResult(service: string, state: UnitState, started?: ProcessResult): ActionResult {
  const exitCode = state.execMainStatus ?? null;
  const clientFailed = started !== undefined && started.exitCode !== 0;
  const unitFailed = state.activeState === 'failed' || (state.result !== undefined && state.result !== 'success');
  if (!clientFailed && !unitFailed) {
    return { status: 'ok', exitCode, message: `${service} finished${state.result === undefined ? '' : ` with Result=${state.result}`}` };
  }
  const parts = [`${service} failed (${describeState(state)})`];
  if (started && clientFailed) {
    const said = lastLine(started.output);
    parts.push(`systemctl ${started.exitCode === null ? 'ended abnormally' : `exited with ${started.exitCode}`}${said ? `: ${said}` : ''}`);
  }
  return { status: 'failed', exitCode, message: parts.join('; ') };
}

function failed(message: string): ActionResult {
  return { status: 'failed', exitCode: null, message };
}

function where(ctx: ActionContext): string {
  return ctx.unit.host === undefined ? '' : ` on ${ctx.unit.host}`;
}

/** systemctl's own output goes into the unit log, as the unit's output would. */
async function appendOutput(ctx: ActionContext, result: ProcessResult): Promise<void> {
  const text = result.output.trim();
  if (text) await appendFile(ctx.logFile, `${text}\n`, { mode: 0o600 });
}

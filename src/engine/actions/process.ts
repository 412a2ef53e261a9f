// run and shell units: a process, locally or on a host over SSH.
import { describeFailure } from '../../exec/types.js';
import { formatDuration } from '../../util/duration.js';
import type { ActionContext, ActionResult } from './types.js';

/** Runs a `run` (argv) or `shell` (explicit /bin/sh -c) unit. */
export async function runProcessAction(ctx: ActionContext): Promise<ActionResult> {
  const { unit } = ctx;
  const argv =
    unit.action.kind === 'run' ? unit.action.argv : unit.action.kind === 'shell' ? ['/bin/sh', '-c', unit.action.script] : [];
  const spec = {
    argv,
    cwd: unit.cwd,
    env: ctx.env,
    timeoutMs: unit.timeoutMs,
    killGraceMs: unit.killGraceMs,
    signal: ctx.signal,
    logFile: ctx.logFile,
    logMax: unit.logMaxBytes,
    label: unit.name,
  };
  const result = unit.host ? await ctx.exec.runRemote(unit.host, spec) : await ctx.exec.run(spec);
  if (result.leftovers) await ctx.note('the unit left background processes in its process group; they were terminated');
  const message = describeFailure(result, formatDuration(unit.timeoutMs));
  const base = { exitCode: result.exitCode, ...(result.signal && { signal: result.signal }), ...(result.logTruncated && { logTruncated: result.logTruncated }) };
  if (result.aborted) return { ...base, status: 'aborted', message };
  if (result.timedOut) return { ...base, status: 'timeout', message };
  if (result.startError || result.exitCode !== 0) return { ...base, status: 'failed', message };
  return { ...base, status: 'ok', message: 'exited with 0' };
}

// Pre-flight idle: the named systemd units are not running (e.g. no backup or migration in progress).
import {
  CONTROL_TIMEOUT_MS,
  createSystemctl,
  describeState,
  isBusy,
  isSystemctlError,
} from '../../src/exec/systemd.js';
import type { PreflightCheck } from '../../src/contract/check.js';

type IdleItem = Extract<import('../../src/config/types.js').ResolvedPreflight, { kind: 'idle' }>;

/** Fails when any named unit is starting, stopping or running, or cannot be found. */
export const idleCheck: PreflightCheck<IdleItem> = {
  id: 'idle',
  phase: 'preflight',
  effect: 'runs-commands',
  describe: (item) => `${item.units.join(', ')} not running${item.host ? ` on ${item.host}` : ''}`,
  async run(ctx) {
    const item = ctx.options;
    const systemctl = createSystemctl(ctx.exec, {
      prefix: ctx.systemctl ?? ['systemctl'],
      ...(item.host !== undefined && { host: item.host }),
      env: ctx.env,
      killGraceMs: 2_000,
    });
    const states = await Promise.all(
      item.units.map(async (unit) => ({ unit, state: await systemctl.show(unit, CONTROL_TIMEOUT_MS, ctx.signal) })),
    );
    const problems: string[] = [];
    for (const { unit, state } of states) {
      if (isSystemctlError(state)) problems.push(`${unit}: cannot read its state: ${state.error}`);
      else if (state.loadState === 'not-found') problems.push(`${unit}: no such unit (LoadState=not-found); check the name`);
      else if (isBusy(state)) problems.push(`${unit} is running (${describeState(state)})`);
    }
    const where = item.host ? ` on ${item.host}` : '';
    if (problems.length === 0) {
      return { status: 'ok', message: `${item.units.length === 1 ? `${item.units[0]} is` : `${item.units.length} units are`} not running${where}` };
    }
    return {
      status: 'failed',
      message: `expected ${item.units.join(', ')} not running${where}, but ${problems.join('; ')}`,
      ...(problems.length > 1 && { details: problems }),
    };
  },
};

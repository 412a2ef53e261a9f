// The systemd unit action against answers real systemd gives (Result, ExecMainStatus, "activating").
//
// Real systemd cannot run in this test environment, so a small scripted manager stands in for it
// here; the same action is driven against the daemonless systemctl for real in
// test/integration/systemd-*.test.ts.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSystemdAction } from '../../../src/engine/actions/systemd.js';
import type { ActionContext } from '../../../src/engine/actions/types.js';
import type { Exec, ProcessResult, ProcessSpec } from '../../../src/exec/types.js';
import type { PlannedUnit } from '../../../src/plan/types.js';

interface Reply {
  exitCode?: number;
  output?: string;
  timedOut?: boolean;
}

/** A manager scripted per verb: each call of a verb takes the next reply (the last one repeats). */
function scriptedManager(script: Record<string, Reply[]>): Exec & { verbs: string[]; specs: ProcessSpec[] } {
  const verbs: string[] = [];
  const specs: ProcessSpec[] = [];
  const used: Record<string, number> = {};
  const run = async (spec: ProcessSpec): Promise<ProcessResult> => {
    const verb = spec.argv.find((arg) => ['show', 'start', 'restart', 'stop'].includes(arg)) ?? '?';
    verbs.push(verb);
    specs.push(spec);
    const replies = script[verb] ?? [{}];
    const reply = replies[Math.min(used[verb] ?? 0, replies.length - 1)]!;
    used[verb] = (used[verb] ?? 0) + 1;
    return {
      exitCode: reply.timedOut ? null : (reply.exitCode ?? 0),
      timedOut: reply.timedOut ?? false,
      aborted: false,
      durationMs: 1,
      output: reply.output ?? '',
      leftovers: false,
    };
  };
  return { verbs, specs, run, runRemote: (_host, spec) => run(spec) };
}

const show = (props: string): Reply => ({ output: `${props.split(' ').join('\n')}\nLoadState=loaded\n` });
const IDLE = show('ActiveState=inactive SubState=dead MainPID=0 Result=success ExecMainStatus=0');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-systemd-action-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function context(exec: Exec, overrides: Partial<PlannedUnit> = {}): ActionContext & { notes: string[] } {
  const notes: string[] = [];
  const unit: PlannedUnit = {
    name: 'pgbackrest-full-backup.service',
    stage: 'postgres',
    action: { kind: 'systemd', service: 'pgbackrest-full-backup.service' },
    cwd: dir,
    env: {},
    timeoutMs: 60_000,
    killGraceMs: 1_000,
    retries: 0,
    retryDelayMs: 0,
    logMaxBytes: 1024,
    critical: true,
    level: 'error',
    ifRunning: 'wait',
    artifacts: [],
    ...overrides,
  };
  return {
    unit,
    env: {},
    logFile: path.join(dir, 'unit.log'),
    exec,
    systemctl: ['systemctl'],
    signal: new AbortController().signal,
    notes,
    async note(line) {
      notes.push(line);
    },
  };
}

describe('systemd action with the answers of real systemd', () => {
  it('a failed oneshot: Result and ExecMainStatus make the message and the exit code', async () => {
    const exec = scriptedManager({
      show: [IDLE, show('ActiveState=failed SubState=failed MainPID=0 Result=exit-code ExecMainStatus=3')],
      start: [{ exitCode: 1, output: "Job for pgbackrest-full-backup.service failed because the control process exited with error code.\nSee \"systemctl status pgbackrest-full-backup.service\" and \"journalctl -xeu pgbackrest-full-backup.service\" for details.\n" }],
    });
    const ctx = context(exec);
    const result = await runSystemdAction(ctx);
    expect(result).toEqual({
      status: 'failed',
      exitCode: 3,
      message:
        'pgbackrest-full-backup.service failed (ActiveState=failed, SubState=failed, Result=exit-code, ExecMainStatus=3); systemctl exited with 1: See "systemctl status pgbackrest-full-backup.service" and "journalctl -xeu pgbackrest-full-backup.service" for details.',
    });
    expect(exec.verbs).toEqual(['show', 'start', 'show']);
    expect(await readFile(ctx.logFile, 'utf8')).toContain('Job for pgbackrest-full-backup.service failed');
  });

  it('a simple service keeps running after start: it is followed until it ends', async () => {
    const exec = scriptedManager({
      show: [IDLE, show('ActiveState=active SubState=running MainPID=812'), show('ActiveState=active SubState=running MainPID=812'), IDLE],
    });
    const result = await runSystemdAction(context(exec));
    expect(result).toEqual({ status: 'ok', exitCode: 0, message: 'pgbackrest-full-backup.service finished with Result=success' });
    expect(exec.verbs).toEqual(['show', 'start', 'show', 'show', 'show']);
  });

  it('Result other than success fails even when systemctl start returned 0', async () => {
    const exec = scriptedManager({ show: [IDLE, show('ActiveState=inactive SubState=dead MainPID=0 Result=timeout ExecMainStatus=0')] });
    const result = await runSystemdAction(context(exec));
    expect(result.status).toBe('failed');
    expect(result.message).toBe('pgbackrest-full-backup.service failed (ActiveState=inactive, SubState=dead, Result=timeout, ExecMainStatus=0)');
  });

  it('if_running: wait follows a oneshot that is "activating" and does not start it again', async () => {
    const running = show('ActiveState=activating SubState=start MainPID=1201 Result=success');
    const exec = scriptedManager({ show: [running, running, show('ActiveState=failed SubState=failed MainPID=0 Result=exit-code ExecMainStatus=12')] });
    const result = await runSystemdAction(context(exec));
    expect(result).toEqual({
      status: 'failed',
      exitCode: 12,
      message: 'followed the run already in progress: pgbackrest-full-backup.service failed (ActiveState=failed, SubState=failed, Result=exit-code, ExecMainStatus=12)',
    });
    expect(exec.verbs).toEqual(['show', 'show', 'show']);
  });

  it('start that outlives the timeout: the unit is stopped, status timeout', async () => {
    const exec = scriptedManager({ show: [IDLE], start: [{ timedOut: true }] });
    const result = await runSystemdAction(context(exec, { timeoutMs: 1_500 }));
    expect(result).toEqual({ status: 'timeout', exitCode: null, message: 'pgbackrest-full-backup.service timed out after 1.5s; the unit was stopped' });
    expect(exec.verbs).toEqual(['show', 'start', 'stop']);
    // The start got what was left of the unit's timeout; the stop its own, longer one.
    expect(exec.specs[1]!.timeoutMs).toBeLessThanOrEqual(1_500);
    expect(exec.specs[2]!.timeoutMs).toBe(120_000);
    expect(exec.specs[2]!.signal).toBeUndefined();
  });

  it('a stop that fails is said, so someone checks the unit', async () => {
    const exec = scriptedManager({ show: [IDLE], start: [{ timedOut: true }], stop: [{ exitCode: 1, output: 'Access denied' }] });
    const result = await runSystemdAction(context(exec, { timeoutMs: 1_000 }));
    expect(result.status).toBe('timeout');
    expect(result.message).toBe('pgbackrest-full-backup.service timed out after 1.0s; stopping the unit failed (systemctl stop exited with 1): check it by hand');
  });

  it('an unknown unit fails before anything is started', async () => {
    const exec = scriptedManager({ show: [show('ActiveState=inactive SubState=dead MainPID=0 LoadState=not-found')] });
    const result = await runSystemdAction(context(exec));
    expect(result.status).toBe('failed');
    expect(result.message).toBe('pgbackrest-full-backup.service cannot be started: LoadState=not-found; check the name with `systemctl list-unit-files --type=service`');
    expect(exec.verbs).toEqual(['show']);
  });
});

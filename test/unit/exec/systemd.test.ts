// The systemctl client: argv built from defaults.systemctl, and parsing of what systemd and the daemonless systemctl print.
import { describe, expect, it } from 'vitest';
import {
  createSystemctl,
  describeState,
  isBusy,
  parseShowOutput,
  parseUnitFileList,
  parseUnitList,
  toUnitState,
  type UnitState,
} from '../../../src/exec/systemd.js';
import type { Exec, ProcessResult, ProcessSpec } from '../../../src/exec/types.js';

/**
 * Records what the client asks Exec to run and answers with canned output. Real systemd cannot run
 * here; the daemonless systemctl is driven for real in test/integration/systemd-*.test.ts.
 */
function recordingExec(answer: (argv: string[]) => Partial<ProcessResult> = () => ({})): Exec & { calls: Array<{ host?: string; spec: ProcessSpec }> } {
  const calls: Array<{ host?: string; spec: ProcessSpec }> = [];
  const reply = (spec: ProcessSpec): ProcessResult => ({
    exitCode: 0,
    timedOut: false,
    aborted: false,
    durationMs: 1,
    output: '',
    leftovers: false,
    ...answer(spec.argv),
  });
  return {
    calls,
    async run(spec) {
      calls.push({ spec });
      return reply(spec);
    },
    async runRemote(host, spec) {
      calls.push({ host, spec });
      return reply(spec);
    },
  };
}

const SHOW_ACTIVE = 'ActiveState=inactive\nSubState=dead\nLoadState=loaded\nMainPID=0\n';

describe('argv: defaults.systemctl is a prefix, nothing more', () => {
  it.each([
    [['systemctl']],
    [['systemctl', '--user']],
    [['sudo', 'systemctl']],
    [['python3', '/opt/systemctl.py', '--root=/srv/root']],
  ])('%j', async (prefix) => {
    const exec = recordingExec(() => ({ output: SHOW_ACTIVE }));
    const systemctl = createSystemctl(exec, { prefix, env: { PATH: '/usr/bin' }, killGraceMs: 1000 });
    await systemctl.show('restic-backup-home.service', 5_000);
    await systemctl.start('restic-backup-home.service', 'start', 60_000);
    await systemctl.start('restic-backup-home.service', 'restart', 60_000);
    await systemctl.stop('restic-backup-home.service', 120_000);
    expect(exec.calls.map((c) => c.spec.argv)).toEqual([
      [...prefix, 'show', '--no-pager', '--', 'restic-backup-home.service'],
      [...prefix, 'start', '--', 'restic-backup-home.service'],
      [...prefix, 'restart', '--', 'restic-backup-home.service'],
      [...prefix, 'stop', '--', 'restic-backup-home.service'],
    ]);
    expect(exec.calls.map((c) => c.spec.timeoutMs)).toEqual([5_000, 60_000, 60_000, 120_000]);
    expect(exec.calls.every((c) => c.host === undefined && c.spec.env?.PATH === '/usr/bin')).toBe(true);
  });

  it('lists unit files and loaded units with machine-readable flags', async () => {
    const exec = recordingExec();
    await createSystemctl(exec, { prefix: ['systemctl', '--user'], env: {}, killGraceMs: 1000 }).listServices(30_000);
    expect(exec.calls.map((c) => c.spec.argv)).toEqual([
      ['systemctl', '--user', 'list-unit-files', '--type=service', '--all', '--no-legend', '--plain', '--no-pager'],
      ['systemctl', '--user', 'list-units', '--type=service', '--all', '--no-legend', '--plain', '--no-pager'],
    ]);
  });

  it('a unit with a host runs the same argv over SSH, never through a local shell', async () => {
    const exec = recordingExec(() => ({ output: SHOW_ACTIVE }));
    const systemctl = createSystemctl(exec, { prefix: ['sudo', 'systemctl'], host: 'synology', env: {}, killGraceMs: 1000 });
    await systemctl.show('pgbackrest-full-backup.service', 5_000);
    await systemctl.stop('pgbackrest-full-backup.service', 5_000);
    expect(exec.calls).toMatchObject([
      { host: 'synology', spec: { argv: ['sudo', 'systemctl', 'show', '--no-pager', '--', 'pgbackrest-full-backup.service'] } },
      { host: 'synology', spec: { argv: ['sudo', 'systemctl', 'stop', '--', 'pgbackrest-full-backup.service'] } },
    ]);
  });

  it('a service name that looks like an option stays an operand (after --)', async () => {
    const exec = recordingExec(() => ({ output: SHOW_ACTIVE }));
    await createSystemctl(exec, { prefix: ['systemctl'], env: {}, killGraceMs: 1000 }).start('--force.service', 'start', 1000);
    expect(exec.calls[0]!.spec.argv).toEqual(['systemctl', 'start', '--', '--force.service']);
  });

  it('failure is data: what ran, how it failed and its last line', async () => {
    const exec = recordingExec(() => ({ exitCode: 1, output: 'Failed to connect to bus: No medium found\n' }));
    const systemctl = createSystemctl(exec, { prefix: ['systemctl', '--user'], host: 'nas', env: {}, killGraceMs: 1000 });
    expect(await systemctl.listServices(30_000)).toEqual({
      error: 'systemctl --user list-unit-files --type=service --all --no-legend --plain --no-pager on nas: exited with 1: Failed to connect to bus: No medium found',
    });
    expect(await systemctl.show('x.service', 30_000)).toEqual({
      error: 'systemctl --user show --no-pager -- x.service on nas: exited with 1: Failed to connect to bus: No medium found',
    });
  });

  it('a show without ActiveState is not an answer', async () => {
    const exec = recordingExec(() => ({ output: 'Usage: something else\n' }));
    const state = await createSystemctl(exec, { prefix: ['systemctl'], env: {}, killGraceMs: 1000 }).show('x.service', 1000);
    expect(state).toEqual({ error: 'systemctl show --no-pager -- x.service: expected ActiveState=... in the output, got: Usage: something else' });
  });
});

describe('parsing service lists', () => {
  it('systemd list-unit-files: templates and masked units are left out', () => {
    const text = [
      'restic-backup-home.service           enabled   enabled',
      'restic-backup-media.service          disabled  enabled',
      'restic-backup@.service               static    -',
      'syncoid-old.service                  masked    enabled',
      'sanoid.service                       static    -',
      '',
    ].join('\n');
    expect(parseUnitFileList(text)).toEqual(['restic-backup-home.service', 'restic-backup-media.service', 'sanoid.service']);
  });

  it('systemd list-units: status markers skipped, instances kept, not-found left out', () => {
    const text = [
      '  restic-backup-home.service   loaded    inactive dead    Restic backup of /home',
      '● syncoid-tank.service         loaded    failed   failed  Replicate tank with a very.service long description',
      '* syncoid-pool.service         loaded    active   running Replicate pool',
      '  restic-backup@photos.service loaded    inactive dead    Restic backup photos',
      '  ghost.service                not-found inactive dead    ghost.service',
    ].join('\n');
    expect(parseUnitList(text)).toEqual([
      'restic-backup-home.service',
      'syncoid-tank.service',
      'syncoid-pool.service',
      'restic-backup@photos.service',
    ]);
  });

  it('the daemonless systemctl (tab separated, empty descriptions)', () => {
    expect(parseUnitFileList('bk-a.service\tstatic\nbk-fail.service\tstatic\n')).toEqual(['bk-a.service', 'bk-fail.service']);
    expect(parseUnitList('bk-a.service\tloaded inactive dead\tbackup a\nbk-fail.service\tloaded failed dead\t\n')).toEqual([
      'bk-a.service',
      'bk-fail.service',
    ]);
  });

  it('legends, counts and blank lines are not services', () => {
    const text = 'UNIT FILE  STATE  PRESET\n\n3 unit files listed.\n';
    expect(parseUnitFileList(text)).toEqual([]);
    expect(parseUnitList('0 loaded units listed.\n')).toEqual([]);
  });
});

describe('unit state', () => {
  it('reads Result and ExecMainStatus where the manager provides them', () => {
    const text = [
      'Type=oneshot',
      'Result=exit-code',
      'ExecMainStatus=3',
      'MainPID=0',
      'ActiveState=failed',
      'SubState=failed',
      'LoadState=loaded',
      'Environment=A=1 B=2',
      'ExecStart={ path=/usr/bin/restic ; argv[]=/usr/bin/restic backup ; status=3/NOTIMPLEMENTED }',
    ].join('\n');
    const state = toUnitState(parseShowOutput(text));
    expect(state).toEqual({ loadState: 'loaded', activeState: 'failed', subState: 'failed', mainPid: 0, result: 'exit-code', execMainStatus: 3 });
    expect(describeState(state!)).toBe('ActiveState=failed, SubState=failed, Result=exit-code, ExecMainStatus=3');
  });

  it('without them (daemonless), only the states', () => {
    const state = toUnitState(parseShowOutput('Id=x.service\nMainPID=0\nSubState=running\nActiveState=active\nLoadState=loaded\n'));
    expect(state).toEqual({ loadState: 'loaded', activeState: 'active', subState: 'running', mainPid: 0 });
  });

  it('no ActiveState, no state', () => {
    expect(toUnitState(parseShowOutput('Id=x.service\n'))).toBeUndefined();
  });

  const state = (activeState: string, subState: string, mainPid = 0): UnitState => ({ loadState: 'loaded', activeState, subState, mainPid });
  it.each([
    [state('activating', 'start', 412), true], // a oneshot running on systemd
    [state('active', 'running', 412), true], // a simple service running
    [state('deactivating', 'stop-sigterm', 412), true],
    [state('reloading', 'reload', 412), true],
    [state('active', 'exited'), false], // a oneshot with RemainAfterExit that finished
    [state('active', 'running', 0), false], // the daemonless bookkeeping of a finished oneshot
    [state('inactive', 'dead'), false],
    [state('failed', 'failed'), false],
  ])('busy(%j) is %s', (value, busy) => {
    expect(isBusy(value)).toBe(busy);
  });
});

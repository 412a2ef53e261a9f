// Units already running (if_running), the idle pre-flight check, and SIGTERM stopping a started unit.
//
// The daemonless systemctl cannot show a oneshot while it runs (it reports it inactive until its
// start returns), so "a run already in progress" is the closest honest thing it can show: a
// Type=simple unit started by the test itself, as a timer would, whose main process is alive. The
// script waits for a "go" file, so each test decides when that run ends instead of racing a sleep.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { daemonlessSystemctl, makeSystemdRoot, pidAlive, readPid, serviceUnit, waitFor, type SystemdRoot } from '../helpers/systemctl.js';

const script = daemonlessSystemctl();
const suite = script ? describe : describe.skip;

let ws: Workspace;
let root: SystemdRoot;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-systemd-');
  root = await makeSystemdRoot(ws.file('root'), script!);
});
afterEach(async () => {
  // Let every test unit's script end, then remove the workspace.
  await writeFile(ws.file('go'), '');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await ws.cleanup();
});

/**
 * A Type=simple backup that waits for the "go" file, writes out/<name>.txt and exits with `exit`.
 * With `remainAfterExit` the daemonless manager keeps it "active" afterwards, as it would a
 * successful oneshot; without it, the manager can only say "failed" once the process is gone.
 */
async function writeWaitingUnit(name: string, options: { exit?: number; remainAfterExit?: boolean } = {}): Promise<void> {
  const bin = await root.writeScript(
    `${name}.sh`,
    `echo $$ > ${ws.file(`${name}.pid`)}\nwhile [ ! -f ${ws.file('go')} ]; do sleep 0.1; done\nmkdir -p ${ws.file('out')}\necho "backup of ${name}" > ${ws.file(`out/${name}.txt`)}\nexit ${options.exit ?? 0}`,
  );
  await root.writeUnit(`${name}.service`, serviceUnit({ type: 'simple', start: bin, remainAfterExit: options.remainAfterExit ?? true }));
}

/** Starts the unit as another process (a timer) would, and checks the manager sees it running. */
async function startElsewhere(name: string): Promise<number> {
  expect((await root.systemctl(['start', `${name}.service`])).exitCode).toBe(0);
  await waitFor(() => existsSync(ws.file(`${name}.pid`)), `${name} to write its pid`);
  const props = await root.show(`${name}.service`);
  expect(props).toMatchObject({ ActiveState: 'active', SubState: 'running' });
  return readPid(ws.file(`${name}.pid`));
}

function config(body: string): string {
  return `version: 1\ndefaults:\n  systemctl: ${JSON.stringify(root.prefix)}\n${body}`;
}

function unitConfig(name: string, extra: string): string {
  return config(`stages:
  - name: s
    units:
      - systemd: ${name}.service
        timeout: 30s
${extra}        artifacts:
          - path: out/${name}.txt
`);
}

/** The text of a unit's log in the (only) run of this workspace, or '' while there is none. */
async function unitLog(name: string): Promise<string> {
  const runs = ws.file('.rearguard/runs');
  if (!existsSync(runs)) return '';
  for (const run of await readdir(runs)) {
    const file = path.join(runs, run, `${name}.service.log`);
    if (existsSync(file)) return readFile(file, 'utf8');
  }
  return '';
}

suite('systemd units that are already running', () => {
  it('if_running: skip leaves the run in progress alone and counts the unit as skipped', async () => {
    await writeWaitingUnit('restic-home');
    const pid = await startElsewhere('restic-home');
    await ws.write('rearguard.yml', unitConfig('restic-home', '        if_running: skip\n'));
    const { exitCode, verdictLine } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    // A skipped unit is not a failure; with nothing attempted the gate still refuses to say ok.
    expect(verdictLine).not.toMatch(/^verdict: ok/);
    expect(exitCode).not.toBe(0);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('skipped');
    expect(unit.message).toMatch(/^skipped: restic-home\.service is already running \(ActiveState=active, SubState=running, MainPID=\d+\) and if_running is skip$/);
    expect(unit.artifacts).toEqual([]);
    expect(pidAlive(pid)).toBe(true);
    expect(await unitLog('restic-home')).not.toMatch(/ (start|restart|stop) -- /);
  });

  it('if_running: fail fails the unit, saying it is already running', async () => {
    await writeWaitingUnit('restic-home');
    const pid = await startElsewhere('restic-home');
    await ws.write('rearguard.yml', unitConfig('restic-home', '        if_running: fail\n'));
    const { exitCode } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('failed');
    expect(unit.message).toMatch(/restic-home\.service is already running .* and if_running is fail; let it finish, or set if_running: wait/);
    expect(pidAlive(pid)).toBe(true);
  });

  it('if_running: wait follows the run in progress and uses its result and artifact', async () => {
    await writeWaitingUnit('restic-home');
    await startElsewhere('restic-home');
    await ws.write('rearguard.yml', unitConfig('restic-home', '        if_running: wait\n'));
    const cli = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    await waitFor(async () => (await unitLog('restic-home')).includes('if_running: wait, following that run'), 'rearguard to follow the run');
    // rearguard is now waiting on the run it did not start; let that run finish.
    await writeFile(ws.file('go'), '');
    const { exitCode, verdictLine } = toCliResult(await cli);
    expect(verdictLine).toMatch(/^verdict: ok/);
    expect(exitCode).toBe(0);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('ok');
    expect(unit.message).toMatch(/^followed the run already in progress: restic-home\.service finished; 1 artifact\(s\) verified$/);
    expect(unit.artifacts[0].checks.find((c: any) => c.id === 'fresh').status).toBe('ok');
    // It was never started a second time.
    expect(await unitLog('restic-home')).not.toMatch(/ (start|restart) -- /);
  });

  it('if_running: wait reports the failure of the run it followed', async () => {
    await writeWaitingUnit('restic-media', { exit: 4, remainAfterExit: false });
    await startElsewhere('restic-media');
    await ws.write('rearguard.yml', unitConfig('restic-media', ''));
    const cli = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    await waitFor(async () => (await unitLog('restic-media')).includes('if_running: wait'), 'rearguard to follow the run');
    await writeFile(ws.file('go'), '');
    const { exitCode } = toCliResult(await cli);
    expect(exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('failed');
    expect(unit.message).toMatch(/^followed the run already in progress: restic-media\.service failed \(ActiveState=failed/);
  });

  it('if_running: wait times out on a run that does not end, and leaves it running', async () => {
    await writeWaitingUnit('restic-home');
    const pid = await startElsewhere('restic-home');
    await ws.write('rearguard.yml', config(`stages:
  - name: s
    units:
      - systemd: restic-home.service
        timeout: 2s
`));
    const { exitCode } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('timeout');
    expect(unit.message).toMatch(/did not finish within 2(\.0)?s; it was not started by rearguard and was left running$/);
    expect(pidAlive(pid)).toBe(true);
  });
});

suite('pre-flight idle', () => {
  it('fails the run before any unit starts when a named unit is running', async () => {
    await writeWaitingUnit('db-migrate');
    await startElsewhere('db-migrate');
    const backup = await root.writeScript('dump.sh', `mkdir -p ${ws.file('out')}\necho dump > ${ws.file('out/dump.txt')}`);
    await root.writeUnit('db-dump.service', serviceUnit({ start: backup }));
    await ws.write('rearguard.yml', config(`preflight:
  - idle: [db-dump.service, db-migrate.service]
stages:
  - name: s
    units:
      - systemd: db-dump.service
`));
    const { exitCode, verdictLine } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical \(exit 2\): pre-flight failed: expected db-dump\.service, db-migrate\.service not running, but db-migrate\.service is running \(ActiveState=active, SubState=running, MainPID=\d+\); no unit was started$/);
    const report = await ws.readJson('r.json');
    expect(report.preflight[0]).toMatchObject({ id: 'idle', status: 'failed' });
    expect(report.stages[0].units[0].status).toBe('skipped');
    expect(existsSync(ws.file('out/dump.txt'))).toBe(false);
  });

  it('passes when the units are idle, and refuses a unit that does not exist', async () => {
    await writeWaitingUnit('db-migrate');
    const backup = await root.writeScript('dump.sh', `mkdir -p ${ws.file('out')}\necho dump > ${ws.file('out/dump.txt')}`);
    await root.writeUnit('db-dump.service', serviceUnit({ start: backup }));
    const body = (units: string): string => `preflight:
  - idle: [${units}]
stages:
  - name: s
    units:
      - systemd: db-dump.service
        artifacts:
          - path: out/dump.txt
`;
    await ws.write('rearguard.yml', config(body('db-migrate.service')));
    const ok = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(ok.verdictLine).toMatch(/^verdict: ok/);
    expect((await ws.readJson('r.json')).preflight[0]).toMatchObject({ id: 'idle', status: 'ok', message: 'db-migrate.service is not running' });

    await ws.write('rearguard.yml', config(body('db-migrte.service')));
    const typo = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.verdictLine).toContain('db-migrte.service: no such unit (LoadState=not-found); check the name');
  });
});

suite('SIGTERM during a systemd unit', () => {
  it('stops the unit it started, then reports the abort', async () => {
    const pidFile = ws.file('slow.pid');
    const start = await root.writeScript('slow.sh', `echo $$ > ${pidFile}\nexec sleep 60`);
    // The daemonless manager runs the service as a child of the `systemctl start` that rearguard
    // stops on abort, so the backup may be gone (and reaped) before `stop` runs: its ExecStop records
    // that it ran and kills only what is left, as a real ExecStop must.
    const stopped = ws.file('stop-ran');
    const stop = await root.writeScript('slow-stop.sh', `echo ran > ${stopped}\nkill $(cat ${pidFile}) 2>/dev/null || true`);
    await root.writeUnit('slow-backup.service', serviceUnit({ start, stop }));
    await ws.write('rearguard.yml', config(`stages:
  - name: s
    units:
      - systemd: slow-backup.service
        timeout: 60s
`));
    const cli = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    await waitFor(() => existsSync(pidFile), 'the unit to start');
    const pid = await readPid(pidFile);
    cli.kill('SIGTERM');
    const { exitCode, verdictLine } = toCliResult(await cli);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical \(exit 2\): aborted by SIGTERM/);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.message).toMatch(/^slow-backup\.service was interrupted: the run was aborted; the unit was stopped/);
    expect(await unitLog('slow-backup')).toContain(' stop -- slow-backup.service');
    expect(existsSync(stopped)).toBe(true);
    await waitFor(() => !pidAlive(pid), `the backup process ${pid} to end`, 5_000);
  });
});

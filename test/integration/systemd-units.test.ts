// systemd units end to end: the built CLI drives Debian's daemonless systemctl on a test root (--root=<tmp>).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
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
  await ws.cleanup();
});

/** Writes the config (the systemctl prefix and state dir are filled in) and runs the CLI. */
async function run(body: string, args: string[] = ['orchestrate']): Promise<{ exitCode: number; verdictLine: string; stdout: string; stderr: string; report: any }> {
  await ws.write('rearguard.yml', `version: 1\ndefaults:\n  systemctl: ${JSON.stringify(root.prefix)}\n${body}`);
  const result = await runCli([...args, '--json', 'r.json'], { cwd: ws.dir });
  return { ...result, report: existsSync(ws.file('r.json')) ? await ws.readJson('r.json') : undefined };
}

/** A oneshot backup that writes `out/<name>.txt` and says so. */
async function writeBackupUnit(name: string): Promise<void> {
  const bin = await root.writeScript(`${name}.sh`, `mkdir -p ${ws.file('out')}\necho "backup of ${name}" > ${ws.file(`out/${name}.txt`)}\necho wrote ${name}`);
  await root.writeUnit(`${name}.service`, serviceUnit({ start: bin }));
}

suite('systemd units through the daemonless systemctl', () => {
  it('expands match minus exclude into one unit per service, runs each and verifies its artifact', async () => {
    await writeBackupUnit('backup-alpha');
    await writeBackupUnit('backup-beta');
    await writeBackupUnit('backup-info');
    await writeBackupUnit('unrelated');
    // A template cannot be started without an instance: it must not become a unit.
    await root.writeUnit('backup-tpl@.service', serviceUnit({ start: '/bin/true' }));

    const { exitCode, verdictLine, report } = await run(`stages:
  - name: backups
    units:
      - systemd: { match: "backup-*.service", exclude: [backup-info.service] }
        timeout: 30s
        artifacts:
          - path: out/backup-*.txt
`);
    expect(verdictLine).toMatch(/^verdict: ok/);
    expect(exitCode).toBe(0);
    const units = report.stages[0].units;
    expect(units.map((u: any) => u.name)).toEqual(['backup-alpha.service', 'backup-beta.service']);
    for (const unit of units) {
      expect(unit).toMatchObject({ kind: 'systemd', status: 'ok' });
      expect(unit.artifacts[0].checks.map((c: any) => [c.id, c.status])).toEqual([
        ['exists', 'ok'],
        ['fresh', 'ok'],
      ]);
    }
    expect(await readFile(ws.file('out/backup-alpha.txt'), 'utf8')).toBe('backup of backup-alpha\n');
    expect(existsSync(ws.file('out/backup-info.txt'))).toBe(false);
    expect(existsSync(ws.file('out/unrelated.txt'))).toBe(false);
    // The unit log holds what rearguard asked systemctl.
    const log = await readFile(units[0].log, 'utf8');
    expect(log).toContain(`${root.prefix.join(' ')} start -- backup-alpha.service`);
  });

  it('a match that finds no service is exit 2 with the reason, and nothing runs', async () => {
    await writeBackupUnit('unrelated');
    const { exitCode, verdictLine, stderr, report } = await run(`stages:
  - name: backups
    units:
      - systemd: { match: "restic-backup-*.service" }
`);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical \(exit 2\): systemd match "restic-backup-\*\.service" in stage backups found no service on this machine/);
    expect(stderr).toContain('found no service');
    expect(report).toBeUndefined();
    expect(existsSync(ws.file('out/unrelated.txt'))).toBe(false);
  });

  it('a systemctl that cannot list services is exit 2 naming defaults.systemctl', async () => {
    await ws.write('rearguard.yml', `version: 1
defaults:
  systemctl: [${JSON.stringify(root.prefix[0])}, ${JSON.stringify(ws.file('no-such-systemctl.py'))}]
stages:
  - name: backups
    units:
      - systemd: { match: "backup-*.service" }
`);
    const { exitCode, verdictLine } = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/cannot expand systemd matches on this machine: expected a service list, but .*list-unit-files.*exited with 2.*check defaults\.systemctl/);
  });

  it('a failing service fails its unit with the exit status in the message', async () => {
    const bin = await root.writeScript('fail.sh', 'echo "disk quota exceeded" >&2\nexit 3');
    await root.writeUnit('db-dump.service', serviceUnit({ start: bin }));
    const { exitCode, report } = await run(`stages:
  - name: db
    units:
      - systemd: db-dump.service
        timeout: 30s
`);
    expect(exitCode).toBe(2);
    const unit = report.stages[0].units[0];
    expect(unit.status).toBe('failed');
    // The daemonless manager has no Result/ExecMainStatus; its start reports the exit status instead.
    expect(unit.message).toMatch(/^db-dump\.service failed \(ActiveState=failed.*\); systemctl exited with 1: .*start failed \(3\)/);
    expect(unit.log_tail.join('\n')).toContain('start failed (3)');
  });

  it('a unit that outlives its timeout is stopped and reported as timeout', async () => {
    const pidFile = ws.file('slow.pid');
    const start = await root.writeScript('slow.sh', `echo $$ > ${pidFile}\nexec sleep 60`);
    // The timeout may strike just after the manager forked the script and before it wrote its pid.
    // The daemonless manager runs the service as a child of the `systemctl start` that rearguard stops
    // at the timeout, so the backup may be gone (and reaped) before `stop` runs: its ExecStop records
    // that it ran and kills only what is left, as a real ExecStop must.
    const stopped = ws.file('stop-ran');
    const stop = await root.writeScript(
      'slow-stop.sh',
      `echo ran > ${stopped}\nfor i in $(seq 50); do [ -s ${pidFile} ] && break; sleep 0.1; done\nkill $(cat ${pidFile}) 2>/dev/null || true`,
    );
    await root.writeUnit('slow-backup.service', serviceUnit({ start, stop }));
    const began = Date.now();
    const { exitCode, report } = await run(`stages:
  - name: slow
    units:
      - systemd: slow-backup.service
        timeout: 3s
        kill_grace: 1s
`);
    expect(Date.now() - began).toBeLessThan(30_000);
    expect(exitCode).toBe(2);
    const unit = report.stages[0].units[0];
    expect(unit.status).toBe('timeout');
    expect(unit.message).toMatch(/^slow-backup\.service timed out after 3(\.0)?s; the unit was stopped$/);
    const log = await readFile(unit.log, 'utf8');
    expect(log).toContain(`${root.prefix.join(' ')} stop -- slow-backup.service`);
    // `stop` ran the unit's ExecStop, and the backup process is gone.
    expect(existsSync(stopped)).toBe(true);
    const pid = await readPid(pidFile);
    await waitFor(() => !pidAlive(pid), `the backup process ${pid} to end`, 5_000);
    expect((await root.show('slow-backup.service')).ActiveState).toBe('inactive');
  });

  it('runs a oneshot again when a previous run left it active (RemainAfterExit)', async () => {
    await writeBackupUnit('nightly');
    expect((await root.systemctl(['start', 'nightly.service'])).exitCode).toBe(0);
    expect((await root.show('nightly.service')).ActiveState).toBe('active');
    const { exitCode, report } = await run(`stages:
  - name: s
    units:
      - systemd: nightly.service
        timeout: 30s
        artifacts:
          - path: out/nightly.txt
`);
    // `fresh` proves the backup really ran again: a plain `start` would have done nothing.
    expect(exitCode).toBe(0);
    expect(report.stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'fresh').status).toBe('ok');
    expect(await readFile(report.stages[0].units[0].log, 'utf8')).toContain('restart -- nightly.service');
  });

  it('takes the argv prefix as given: [..., --user] reaches user units', async () => {
    const bin = await root.writeScript('user.sh', `mkdir -p ${ws.file('out')}\necho user > ${ws.file('out/user.txt')}`);
    await root.writeUnit('photos-backup.service', serviceUnit({ start: bin }), 'user');
    await ws.write('rearguard.yml', `version: 1
defaults:
  systemctl: ${JSON.stringify([...root.prefix, '--user'])}
stages:
  - name: s
    units:
      - systemd: { match: "photos-*.service" }
        artifacts:
          - path: out/user.txt
`);
    const { exitCode, verdictLine } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(verdictLine).toMatch(/^verdict: ok/);
    expect(exitCode).toBe(0);
    expect((await ws.readJson('r.json')).stages[0].units[0].name).toBe('photos-backup.service');
    // Without --user the same root has no such service: the prefix really selected the user manager.
    const system = await root.systemctl(['list-unit-files', '--type=service', '--no-legend']);
    expect(system.output).not.toContain('photos-backup.service');
  });

  it('plan shows the expanded units without starting anything', async () => {
    await writeBackupUnit('backup-alpha');
    const { exitCode, stdout } = await run(`stages:
  - name: s
    units:
      - systemd: { match: "backup-*.service" }
`, ['plan']);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('backup-alpha.service: systemd backup-alpha.service');
    expect(stdout).toContain('systemd match "backup-*.service" expanded to 1 unit(s): backup-alpha.service');
    expect(existsSync(path.join(ws.dir, 'out'))).toBe(false);
  });
});

// A unit with host: systemctl runs over SSH (a real sshd on loopback) against the daemonless systemctl.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { hostYaml, SSHD, startSshd, type Sshd } from '../helpers/sshd.js';
import { daemonlessSystemctl, makeSystemdRoot, serviceUnit, type SystemdRoot } from '../helpers/systemctl.js';

const script = daemonlessSystemctl();
const haveSshd = requireTool(SSHD, 'apt-get install openssh-server openssh-client') && requireTool('ssh', 'apt-get install openssh-client');
const suite = script && haveSshd ? describe : describe.skip;

let ws: Workspace;
let root: SystemdRoot;
let sshd: Sshd;
beforeAll(async () => {
  if (!script || !haveSshd) return;
  ws = await makeWorkspace('rearguard-systemd-ssh-');
  root = await makeSystemdRoot(ws.file('root'), script);
  // makeSystemdRoot creates var/run/systemd and var/log/journal as a real host has them: two services
  // started at once on a fresh root raced there ("oneshot start failed (1)"), and that race, not SSH,
  // failed this test once.
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
  await ws?.cleanup();
});

suite('systemd over SSH', () => {
  it('expands the match on the host, runs each service there, and checks idle there', async () => {
    // The "remote" machine is this one over loopback SSH: same files, but every systemctl call
    // goes through ssh (the unit log shows "on nas", and a wrong host fails the run).
    for (const name of ['restic-backup-home', 'restic-backup-media']) {
      // Both units check the newest match of one glob: the file appears complete (rename), never
      // empty halfway through a write the other unit's check could see.
      const out = ws.file(`out/${name}.txt`);
      const bin = await root.writeScript(`${name}.sh`, `mkdir -p ${ws.file('out')}\necho "${name} over ssh" > ${ws.file(`out/.${name}.tmp`)}\nmv ${ws.file(`out/.${name}.tmp`)} ${out}`);
      await root.writeUnit(`${name}.service`, serviceUnit({ start: bin }));
    }
    await root.writeUnit('prune.service', serviceUnit({ start: '/bin/true' }));
    // Remote sessions get sshd's default PATH; name the interpreter by its absolute path.
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : root.prefix[0]!;
    const prefix = [python, ...root.prefix.slice(1)];
    await ws.write('rearguard.yml', `version: 1
defaults:
  systemctl: ${JSON.stringify(prefix)}
hosts:
${hostYaml(sshd, 'nas')}preflight:
  - idle: [prune.service]
    host: nas
stages:
  - name: restic
    # Both at once over the one shared SSH connection.
    concurrency: 2
    units:
      - systemd: { match: "restic-backup-*.service" }
        host: nas
        timeout: 60s
        artifacts:
          - path: out/restic-backup-*.txt
`);
    const { exitCode, verdictLine, stdout } = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(verdictLine, stdout).toMatch(/^verdict: ok/);
    expect(exitCode).toBe(0);
    const report = await ws.readJson('r.json');
    expect(report.preflight[0]).toMatchObject({ id: 'idle', status: 'ok', message: 'prune.service is not running on nas' });
    const units = report.stages[0].units;
    expect(units.map((u: any) => [u.name, u.host, u.status])).toEqual([
      ['restic-backup-home.service', 'nas', 'ok'],
      ['restic-backup-media.service', 'nas', 'ok'],
    ]);
    expect(await readFile(ws.file('out/restic-backup-home.txt'), 'utf8')).toBe('restic-backup-home over ssh\n');
    expect(await readFile(units[0].log, 'utf8')).toContain(`${prefix.join(' ')} start -- restic-backup-home.service on nas`);
    expect(stdout).toContain('expanded to 2 unit(s)');
    // sshd saw the logins: the commands really went over SSH.
    expect(sshd.log()).toMatch(/Accepted publickey/);
  });
});

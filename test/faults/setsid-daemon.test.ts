// Fault: a unit forks a daemon with setsid (its own session and process group) and exits 0. With cgroups, the daemon ends with the unit.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { IN_CI } from '../helpers/require-tool.js';
import { waitForLines } from '../helpers/wait-line.js';
import { describeContainment } from '../../src/exec/index.js';

const cgroups = describeContainment().mechanism === 'cgroup';
if (!cgroups && IN_CI) throw new Error('a writable cgroup v2 hierarchy with cgroup.kill is required under CI (run as root on Linux 5.14+)');
const suite = cgroups ? describe : describe.skip;
if (!cgroups) console.warn('skipping: no writable cgroup v2 hierarchy with cgroup.kill (run as root on Linux 5.14+)');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-setsid-');
});
afterEach(async () => {
  await ws.cleanup();
});

suite('fault: a unit forks a setsid daemon', () => {
  it('the daemon is stopped when the unit exits, the unit log says so, and the run still answers for the backup', async () => {
    await ws.write('unit.sh', `#!/bin/sh
setsid sh -c 'echo $$ > daemon.pid; exec sleep 600' &
while [ ! -s daemon.pid ]; do :; done
mkdir -p out && echo data > out/backup.txt
`);
    await ws.write('rearguard.yml', `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: forks
        run: [sh, unit.sh]
        timeout: 60s
        kill_grace: 500ms
        artifacts:
          - path: out/backup.txt
`);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    const [daemon] = (await waitForLines(ws.file('daemon.pid'), 1)).map(Number);
    expect(pidAlive(daemon!), `the setsid daemon ${daemon} still runs`).toBe(false);
    expect(result.verdictLine, result.stdout).toMatch(/^verdict: ok/);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('ok');
    expect(await readFile(unit.log, 'utf8')).toMatch(/left background processes .*terminated/);
  });

  it('a unit that times out takes its setsid daemon with it', async () => {
    await ws.write('unit.sh', `#!/bin/sh
setsid sh -c 'trap "" TERM; echo $$ > daemon.pid; while :; do sleep 1; done' &
exec sleep 600
`);
    await ws.write('rearguard.yml', `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: hangs
        run: [sh, unit.sh]
        timeout: 1s
        kill_grace: 300ms
`);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    const [daemon] = (await waitForLines(ws.file('daemon.pid'), 1)).map(Number);
    expect(result.exitCode).toBe(2);
    expect((await ws.readJson('r.json')).stages[0].units[0]).toMatchObject({ status: 'timeout' });
    expect(pidAlive(daemon!), `the setsid daemon ${daemon} still runs`).toBe(false);
  });
});

// Fault: the session that started a run closes (SIGHUP) or someone presses Ctrl-\ (SIGQUIT) mid-unit. Each ends like SIGTERM: report, lock released, nothing left running, exit 2.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { waitForLines } from '../helpers/wait-line.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-signal-');
});
afterEach(async () => {
  await ws.cleanup();
});

describe('fault: a stop signal mid-unit', () => {
  for (const signal of ['SIGHUP', 'SIGQUIT'] as const) {
    it(`${signal}: the unit and the daemon it forked are stopped, the report names every unit, the lock is released, exit 2`, async () => {
      await ws.write('unit.sh', `#!/bin/sh
setsid sh -c 'echo $$ >> pids; exec sleep 600' &
echo $$ >> pids
sleep 600
`);
      await ws.write('rearguard.yml', `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: slow
        run: [sh, unit.sh]
        timeout: 60s
        kill_grace: 1s
  - name: later
    units:
      - name: after
        run: [touch, after-ran]
`);
      const run = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
      // The fixed point: both the unit and its daemon have written their pids.
      const pids = (await waitForLines(ws.file('pids'), 2)).map(Number);
      run.kill(signal);
      const result = toCliResult(await run);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain(`received ${signal}: starting nothing new`);
      expect(result.verdictLine).toBe(`verdict: critical (exit 2): aborted by ${signal}`);
      const report = await ws.readJson('r.json');
      expect(report).toMatchObject({ verdict: 'critical', exit_code: 2, reason: `aborted by ${signal}` });
      expect(report.stages[0].units[0]).toMatchObject({ name: 'slow', status: 'failed' });
      expect(report.stages[1].units[0]).toMatchObject({ name: 'after', status: 'skipped', message: `not started: aborted by ${signal}` });
      expect(existsSync(ws.file('after-ran'))).toBe(false);
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
      for (const pid of pids) expect(pidAlive(pid), `pid ${pid} (${await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '?')}) still runs`).toBe(false);
    });
  }
});

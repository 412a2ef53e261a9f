// Fault: rearguard is killed with SIGKILL while a unit runs. Its first process dies with it; whatever the unit forked is stopped by the next run before it starts anything (or, with defaults.leftovers: refuse, that run refuses, naming them).
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stopLeftovers } from '../../src/state/live-processes.js';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { waitForLines } from '../helpers/wait-line.js';

let ws: Workspace;
let pids: number[] = [];
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-kill9-');
  pids = [];
});
afterEach(async () => {
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  // What a failed assertion left in the killed run's cgroups (the unit's foreground sleep).
  for (const run of await readdir(ws.file('state/runs')).catch(() => [])) await stopLeftovers(ws.file(`state/runs/${run}`), 0);
  await ws.cleanup();
});

const config = (unit: string, extra = ''): string => `version: 1
state_dir: ./state
${extra}stages:
  - name: s
    units:
      - name: backup
        ${unit}
        timeout: 60s
        kill_grace: 500ms
`;

/** Starts a run whose unit forks a background child and a setsid daemon, and kills rearguard with SIGKILL once all three are up. */
async function killMidUnit(extra = ''): Promise<{ first: number; rest: number[] }> {
  await ws.write('unit.sh', `#!/bin/sh
echo $$ >> pids
sleep 600 &
echo $! >> pids
setsid sh -c 'echo $$ >> pids; exec sleep 600' &
sleep 600
`);
  await ws.write('rearguard.yml', config('run: [sh, unit.sh]', extra));
  const victim = startCli(['orchestrate'], { cwd: ws.dir });
  // The fixed point: the unit and both of its children have written their pids.
  const lines = (await waitForLines(ws.file('pids'), 3)).map(Number);
  pids = lines;
  victim.kill('SIGKILL');
  await victim;
  expect(existsSync(ws.file('state/rearguard.lock'))).toBe(true);
  const [first, ...rest] = lines;
  await waitUntil(() => !pidAlive(first!), 'the unit to die with rearguard (parent-death signal)');
  return { first: first!, rest };
}

describe('fault: kill -9 of rearguard during a unit', () => {
  it('the next run stops what the unit left, says so, then runs and answers correctly', async () => {
    const { rest } = await killMidUnit();
    for (const pid of rest) expect(pidAlive(pid), `pid ${pid} outlived rearguard until the next run`).toBe(true);
    await ws.write('rearguard.yml', config("run: ['true']"));
    const next = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered a stale lock/);
    expect(next.stderr).toMatch(/stopped \d+ process\(es\) left running by the killed run \S+: backup \(sh\): pids /);
    for (const pid of rest) expect(pidAlive(pid), `pid ${pid} still runs after the next run`).toBe(false);
    const report = await ws.readJson('r.json');
    expect(report.notes.join('\n')).toMatch(/stopped \d+ process\(es\) left running by the killed run/);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
    // The dead run's record of live processes is gone once they are.
    for (const run of await readdir(ws.file('state/runs'))) expect(existsSync(ws.file(`state/runs/${run}/live`))).toBe(false);
  });

  it('with defaults.leftovers: refuse, the next run starts nothing, names the processes and exits 2', async () => {
    const { rest } = await killMidUnit('defaults:\n  leftovers: refuse\n');
    await ws.write('rearguard.yml', config('run: [touch, ran]', 'defaults:\n  leftovers: refuse\n'));
    const next = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(next.exitCode).toBe(2);
    expect(next.verdictLine).toMatch(/^verdict: critical \(exit 2\): processes of the killed run \S+ still run; nothing was started$/);
    for (const pid of rest) expect(next.stderr).toContain(String(pid));
    expect(existsSync(ws.file('ran'))).toBe(false);
    for (const pid of rest) expect(pidAlive(pid)).toBe(true);
    // The stale lock stays, so the refusal repeats until someone decides.
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(true);
  });
});

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

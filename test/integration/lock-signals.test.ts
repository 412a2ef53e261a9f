// One run at a time per state dir; stale locks; signals end a run cleanly with a report.
import { existsSync } from 'node:fs';
import { readFile, symlink, writeFile, mkdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../helpers/process.js';
import { makeWorkspace, runCli, startCli, toCliResult, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const slowConfig = (seconds: number): string => `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: slow
        run: [sh, -c, 'echo $$ > slow.pid; echo started > started; sleep ${seconds}']
        timeout: 60s
        kill_grace: 1s
  - name: later
    units:
      - name: after
        run: [sh, -c, 'touch after-ran']
`;

async function waitFor(file: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(ws.file(file))) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


describe('run lock', () => {
  it('refuses a second concurrent run at once, naming the holder, and lets --wait-lock wait', async () => {
    // The first run holds the lock until the test creates `release`.
    await ws.write('rearguard.yml', slowConfig(0).replace('sleep 0', 'while [ ! -f release ]; do sleep 0.05; done'));
    const first = startCli(['orchestrate'], { cwd: ws.dir });
    await waitFor('started');
    const second = await runCli(['orchestrate', '--json', 'second.json'], { cwd: ws.dir });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`another run holds the lock .*state/rearguard\\.lock: pid ${first.pid} on \\S+, "rearguard orchestrate", started \\d{4}-`));
    expect(second.verdictLine).toMatch(/^verdict: critical \(exit 2\): another run holds the lock/);
    expect(existsSync(ws.file('second.json'))).toBe(false);

    const waiting = startCli(['orchestrate', '--wait-lock', '60s'], { cwd: ws.dir });
    let waitingErr = '';
    waiting.stderr?.on('data', (chunk: Buffer) => (waitingErr += chunk.toString()));
    const deadline = Date.now() + 20_000;
    while (!waitingErr.includes('waiting up to') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(waitingErr).toMatch(new RegExp(`waiting up to 1m00s for the lock, held by pid ${first.pid}`));
    await writeFile(ws.file('release'), '');
    expect(toCliResult(await first).exitCode).toBe(0);
    expect(toCliResult(await waiting).exitCode).toBe(0);
  });

  it('recovers the lock of a run killed with SIGKILL, with a warning', async () => {
    await ws.write('rearguard.yml', slowConfig(30));
    const victim = startCli(['orchestrate'], { cwd: ws.dir });
    await waitFor('started');
    victim.kill('SIGKILL');
    await victim;
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(true);
    process.kill(Number(await readFile(ws.file('slow.pid'), 'utf8')), 'SIGKILL');
    await ws.write('rearguard.yml', slowConfig(0));
    const next = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toMatch(new RegExp(`warning: recovered a stale lock left by pid ${victim.pid} .* which no longer runs`));
    expect((await ws.readJson('r.json')).notes[0]).toMatch(/recovered a stale lock/);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });

  it('refuses a lock path that is a planted symlink and never writes through it', async () => {
    await ws.write('rearguard.yml', slowConfig(0));
    await mkdir(ws.file('state'), { recursive: true });
    await writeFile(ws.file('precious'), 'do not touch\n');
    await symlink(ws.file('precious'), ws.file('state/rearguard.lock'));
    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/symbolic link/);
    expect(await readFile(ws.file('precious'), 'utf8')).toBe('do not touch\n');
  });
});

describe('signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops running units, starts nothing new, writes the report, releases the lock, exits 2`, async () => {
      await ws.write('rearguard.yml', slowConfig(60));
      const run = startCli(['orchestrate', '--json', 'r.json', '--junit', 'r.xml'], { cwd: ws.dir });
      await waitFor('started');
      const unitPid = Number(await readFile(ws.file('slow.pid'), 'utf8'));
      run.kill(signal);
      const result = toCliResult(await run);
      expect(result.exitCode).toBe(2);
      expect(result.verdictLine).toBe(`verdict: critical (exit 2): aborted by ${signal}`);
      const report = await ws.readJson('r.json');
      expect(report).toMatchObject({ verdict: 'critical', exit_code: 2, reason: `aborted by ${signal}` });
      expect(report.stages[0].units[0].status).toBe('failed');
      expect(report.stages[1].units[0]).toMatchObject({ status: 'skipped', message: `not started: aborted by ${signal}` });
      expect(existsSync(ws.file('after-ran'))).toBe(false);
      expect(pidAlive(unitPid)).toBe(false);
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
      expect(await readFile(ws.file('r.xml'), 'utf8')).toContain(`aborted by ${signal}`);
    });
  }
});

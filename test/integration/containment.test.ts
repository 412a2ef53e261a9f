// Containment of local processes: a cgroup per process tree (setsid escapes caught), the process-group fallback, the parent-death signal, the live record a later run reaps, and the capped log.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createExec, describeContainment } from '../../src/exec/index.js';
import { readLiveJournal } from '../../src/state/live-journal.js';
import { findLeftovers, stopLeftovers } from '../../src/state/live-processes.js';
import { ROOT } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { IN_CI } from '../helpers/require-tool.js';
import { waitForLine, waitForLines } from '../helpers/wait-line.js';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const cgroupsHere = describeContainment().mechanism === 'cgroup';
if (!cgroupsHere && IN_CI) throw new Error('a writable cgroup v2 hierarchy with cgroup.kill is required under CI (run as root on Linux 5.14+)');
if (!cgroupsHere) console.warn('skipping the cgroup cases: no writable cgroup v2 hierarchy with cgroup.kill (run as root on Linux 5.14+)');

let dir: string;
const started: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-contain-'));
});
afterEach(async () => {
  for (const pid of started.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  // What a failed assertion left of a killed stand-in run (e.g. the unit's foreground sleep).
  await stopLeftovers(path.join(dir, 'run'), 0);
  await rm(dir, { recursive: true, force: true });
});

async function pids(file: string, count: number): Promise<number[]> {
  const lines = await waitForLines(path.join(dir, file), count);
  const out = lines.map(Number);
  started.push(...out);
  return out;
}

/** A unit that starts a `setsid` daemon (its own session and process group) and a plain background child, then exits 0. */
async function writeForker(): Promise<string> {
  const script = path.join(dir, 'forker.sh');
  await writeFile(script, `#!/bin/sh
setsid sh -c 'echo $$ >> ${dir}/daemon.pid; exec sleep 600' &
sleep 600 &
echo $! >> ${dir}/child.pid
while [ ! -s ${dir}/daemon.pid ]; do :; done
echo "backup done"
`, { mode: 0o755 });
  return script;
}

for (const cgroups of [true, false]) {
  const mode = cgroups ? 'cgroup' : 'process-group fallback';
  const suite = cgroups && !cgroupsHere ? describe.skip : describe;

  suite(`containment (${mode})`, () => {
    it('names the mechanism in use', () => {
      const exec = createExec({ hosts: {}, stateDir: dir, cgroups });
      const info = exec.containment();
      exec.close();
      expect(info.mechanism).toBe(cgroups ? 'cgroup' : 'process-group');
      expect(info.summary).toMatch(cgroups ? /cgroup per process tree .*setsid escapes are caught/ : /process group per process tree .*setsid escapes it/);
      expect(info.parentDeathSignal).toBe(existsSync('/usr/bin/setpriv') || existsSync('/bin/setpriv'));
    });

    it('terminates what the unit left behind after it exited; a setsid daemon only with a cgroup', async () => {
      const runDir = path.join(dir, 'run');
      const exec = createExec({ hosts: {}, stateDir: dir, runDir, cgroups });
      const result = await exec.run({ argv: [await writeForker()], env: ENV, timeoutMs: 30_000, killGraceMs: 300, logFile: path.join(dir, 'unit.log') });
      await exec.close();
      expect(result.exitCode).toBe(0);
      expect(result.leftovers).toBe(true);
      expect(await readFile(path.join(dir, 'unit.log'), 'utf8')).toBe('backup done\n');
      const [child] = await pids('child.pid', 1);
      const [daemon] = await pids('daemon.pid', 1);
      expect(pidAlive(child!), 'the background child in the process group').toBe(false);
      // The fallback cannot reach a process that left its group: that is why the cgroup comes first.
      expect(pidAlive(daemon!), 'the setsid daemon').toBe(!cgroups);
      // Nothing is recorded as live once the run closed, and no cgroup folder is left.
      expect(readLiveJournal(runDir)).toEqual([]);
      if (cgroups) expect(existsSync(exec.containment().cgroup!)).toBe(false);
    });

    it('returns when an escaped process still holds the output pipe, and keeps what it wrote before', async () => {
      const exec = createExec({ hosts: {}, stateDir: dir, cgroups });
      const script = path.join(dir, 'holder.sh');
      await writeFile(script, `#!/bin/sh\necho "to /dev/stdout" > /dev/stdout\nsetsid sh -c 'echo $$ > ${dir}/holder.pid; exec sleep 600' &\nwhile [ ! -s ${dir}/holder.pid ]; do :; done\necho done\n`, { mode: 0o755 });
      const result = await exec.run({ argv: [script], env: ENV, timeoutMs: 30_000, killGraceMs: 300 });
      await exec.close();
      expect(result.exitCode).toBe(0);
      expect(result.output).toBe('to /dev/stdout\ndone\n');
      const [holder] = await pids('holder.pid', 1);
      expect(pidAlive(holder!)).toBe(!cgroups);
    });

    it('kills the whole tree on timeout, a setsid daemon too with a cgroup', async () => {
      const exec = createExec({ hosts: {}, stateDir: dir, cgroups });
      const script = path.join(dir, 'hang.sh');
      await writeFile(script, `#!/bin/sh\nsetsid sh -c 'trap "" TERM; echo $$ > ${dir}/daemon.pid; while :; do sleep 1; done' &\ntrap "" TERM\necho $$ > ${dir}/self.pid\nsleep 600\n`, { mode: 0o755 });
      const run = exec.run({ argv: [script], env: ENV, timeoutMs: 600_000, killGraceMs: 200, signal: abortWhen(path.join(dir, 'self.pid'), path.join(dir, 'daemon.pid')) });
      const result = await run;
      await exec.close();
      expect(result.aborted).toBe(true);
      const [self] = await pids('self.pid', 1);
      const [daemon] = await pids('daemon.pid', 1);
      expect(pidAlive(self!)).toBe(false);
      expect(pidAlive(daemon!)).toBe(!cgroups);
    });

    it('when rearguard is killed with SIGKILL mid-unit, the first process dies with it and the next run stops the rest from the live record', async () => {
      const runDir = path.join(dir, 'run');
      const child = execa(process.execPath, [path.join(ROOT, 'test/helpers/contained-child.mjs'), runDir, cgroups ? 'on' : 'off', path.join(dir, 'unit.log'), await writeForkerThatStays()], { reject: false });
      await waitForLine(child.stdout!, /^started$/);
      const [first] = await pids('first.pid', 1);
      const [daemon] = await pids('daemon.pid', 1);
      const [background] = await pids('child.pid', 1);
      // Without a cgroup the record is written just after the spawn returns, and the program may have written
      // its pid files before the parent got that far: the fixed point is the record itself.
      await waitUntil(() => readLiveJournal(runDir).length === 1, 'the live record of the program');
      expect(readLiveJournal(runDir)).toHaveLength(1);
      child.kill('SIGKILL');
      await child;
      // The parent-death signal: the unit's first process does not outlive rearguard.
      await waitUntil(() => !pidAlive(first!), 'the first process to die with its parent');
      // Its background child and (in a cgroup) the setsid daemon are what the next run finds.
      expect(pidAlive(background!)).toBe(true);
      const found = findLeftovers(runDir);
      expect(found).toHaveLength(1);
      expect(found[0]!.record.label).toBe('victim');
      expect(found[0]!.pids).toContain(background);
      if (cgroups) expect(found[0]!.pids).toContain(daemon);
      const outcome = await stopLeftovers(runDir);
      expect(outcome.survivors).toEqual([]);
      expect(pidAlive(background!)).toBe(false);
      expect(pidAlive(daemon!)).toBe(!cgroups);
      expect(readLiveJournal(runDir)).toEqual([]);
      expect(findLeftovers(runDir)).toEqual([]);
    });
  });
}

/** A unit that forks and stays: first process, background child, setsid daemon; each writes its pid. */
async function writeForkerThatStays(): Promise<string> {
  const script = path.join(dir, 'stay.sh');
  await writeFile(script, `#!/bin/sh
echo $$ > ${dir}/first.pid
setsid sh -c 'echo $$ > ${dir}/daemon.pid; exec sleep 600' &
sleep 600 &
echo $! > ${dir}/child.pid
sleep 600
`, { mode: 0o755 });
  return script;
}

/** An AbortSignal that aborts once every file exists (the fixed point), like SIGTERM reaching a run. */
function abortWhen(...files: string[]): AbortSignal {
  const controller = new AbortController();
  const poll = setInterval(() => {
    if (files.every((f) => existsSync(f) && readFileSafe(f) !== '')) {
      clearInterval(poll);
      controller.abort('SIGTERM');
    }
  }, 20);
  return controller.signal;
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('capped log', () => {
  it('keeps the head and the tail of a flood, with one line saying how many bytes were dropped', async () => {
    const exec = createExec({ hosts: {}, stateDir: dir });
    const log = path.join(dir, 'flood.log');
    await writeFile(log, 'attempt 1\n');
    const logMax = 256 * 1024;
    const result = await exec.run({ argv: ['seq', '1', '300000'], env: ENV, timeoutMs: 60_000, killGraceMs: 300, logFile: log, logMax });
    await exec.close();
    const expected = Buffer.from(`${Array.from({ length: 300000 }, (_, i) => i + 1).join('\n')}\n`);
    expect(result.exitCode).toBe(0);
    expect(result.logTruncated).toEqual({ bytes: expected.length, droppedBytes: expected.length - logMax });
    const text = await readFile(log);
    const head = text.subarray(0, 10 + logMax / 2);
    expect(head.toString()).toBe(`attempt 1\n${expected.subarray(0, logMax / 2).toString()}`);
    const rest = text.subarray(head.length).toString();
    const markerEnd = rest.indexOf('\n', 1) + 1;
    const marker = rest.slice(0, markerEnd);
    expect(marker).toMatch(new RegExp(`^\\n?\\[rearguard \\S+\\] log_max: ${expected.length - logMax} bytes of output dropped here; the first ${logMax / 2} and the last ${logMax / 2} bytes of ${expected.length} are kept\\n$`));
    expect(rest.slice(markerEnd)).toBe(expected.subarray(expected.length - logMax / 2).toString());
    // No segment file is left beside the log.
    expect((await stat(log)).size).toBe(text.length);
    expect(existsSync(`${log}.tail-1`) || existsSync(`${log}.tail-keep`)).toBe(false);
  });

  it('keeps an exact tail when the output only just passes the cap (part of the tail still in the log itself)', async () => {
    const exec = createExec({ hosts: {}, stateDir: dir });
    const log = path.join(dir, 'edge.log');
    const logMax = 64 * 1024;
    const result = await exec.run({ argv: ['seq', '1', '14000'], env: ENV, timeoutMs: 60_000, killGraceMs: 300, logFile: log, logMax });
    await exec.close();
    const expected = Buffer.from(`${Array.from({ length: 14000 }, (_, i) => i + 1).join('\n')}\n`);
    expect(expected.length).toBeGreaterThan(logMax);
    expect(expected.length).toBeLessThan(logMax + logMax / 2);
    expect(result.logTruncated).toEqual({ bytes: expected.length, droppedBytes: expected.length - logMax });
    const text = (await readFile(log)).toString();
    expect(text.startsWith(expected.subarray(0, logMax / 2).toString())).toBe(true);
    expect(text.endsWith(expected.subarray(expected.length - logMax / 2).toString())).toBe(true);
    expect(text).toContain(`log_max: ${expected.length - logMax} bytes of output dropped here`);
  });

  it('leaves a log under the cap untouched', async () => {
    const exec = createExec({ hosts: {}, stateDir: dir });
    const log = path.join(dir, 'small.log');
    const result = await exec.run({ argv: ['seq', '1', '1000'], env: ENV, timeoutMs: 60_000, killGraceMs: 300, logFile: log, logMax: 64 * 1024 });
    await exec.close();
    expect(result.logTruncated).toBeUndefined();
    expect(await readFile(log, 'utf8')).toBe(`${Array.from({ length: 1000 }, (_, i) => i + 1).join('\n')}\n`);
  });

  it('says a program is missing as such, not as the wrapper failing', async () => {
    const exec = createExec({ hosts: {}, stateDir: dir });
    const result = await exec.run({ argv: ['no-such-program-here'], env: ENV, timeoutMs: 5_000, killGraceMs: 100 });
    await exec.close();
    expect(result.startError).toBe('could not start no-such-program-here: program not found');
  });

  it('says a missing working folder is missing, not that the program is', async () => {
    const exec = createExec({ hosts: {}, stateDir: dir });
    const cwd = path.join(dir, 'no-such-folder');
    const result = await exec.run({ argv: ['true'], cwd, env: ENV, timeoutMs: 5_000, killGraceMs: 100 });
    await exec.close();
    expect(result.startError).toBe(`could not start true: its working folder ${cwd} does not exist`);
  });
});

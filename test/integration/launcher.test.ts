// The run's launcher: plain programs are started by it (not by rearguard's own large process), each born in its own cgroup even when many start at once; a launcher that dies or never comes up costs no program its answer or its containment.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cgroupPopulated, removeCgroup, signalCgroup } from '../../src/exec/cgroup.js';
import { createContainment, describeContainment } from '../../src/exec/containment.js';
import { prestartLauncher, startLauncher, type Launcher } from '../../src/exec/launcher.js';
import { createLocalRunner, type LocalRunner } from '../../src/exec/local.js';
import { pidAlive } from '../helpers/process.js';
import { IN_CI } from '../helpers/require-tool.js';
import { waitForLines } from '../helpers/wait-line.js';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const cgroupsHere = describeContainment().mechanism === 'cgroup';
if (!cgroupsHere && IN_CI) throw new Error('a writable cgroup v2 hierarchy with cgroup.kill is required under CI (run as root on Linux 5.14+)');

let dir: string;
let runner: LocalRunner | undefined;
const spare: number[] = [];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-launcher-'));
});
afterEach(async () => {
  for (const pid of spare.splice(0)) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  await runner?.close();
  runner = undefined;
  await rm(dir, { recursive: true, force: true });
});

const spec = (argv: string[], extra: Record<string, unknown> = {}) => ({ argv, env: ENV, timeoutMs: 30_000, killGraceMs: 300, ...extra });

/** The command line of a process, its arguments joined by spaces. */
function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
}

for (const cgroups of [true, false]) {
  const suite = cgroups && !cgroupsHere ? describe.skip : describe;
  suite(`the run's launcher (${cgroups ? 'cgroup' : 'process-group fallback'})`, () => {
    it('starts a plain program; one fed by a stream is started by rearguard itself', async () => {
      const containment = createContainment({ cgroups, name: `rearguard-launcher-test-${process.pid}` });
      runner = createLocalRunner({ containment, runDir: path.join(dir, 'run') });
      const plain = await runner(spec(['sh', '-c', 'echo $PPID']));
      expect(plain.exitCode).toBe(0);
      const parent = Number(plain.output.trim());
      expect(parent).not.toBe(process.pid);
      expect(commandLine(parent)).toBe(`${process.execPath} - rearguard-launcher`);
      const fed = await runner(spec(['sh', '-c', 'read line; echo "$PPID $line"'], { input: 'hello\n' }));
      expect(fed.output.trim()).toBe(`${process.pid} hello`);
      await runner.close();
      containment.close();
    });

    it('when the launcher dies while programs run, they are reported lost, their processes are stopped, and later programs still start', async () => {
      const containment = createContainment({ cgroups, name: `rearguard-launcher-test-${process.pid}` });
      runner = createLocalRunner({ containment, runDir: path.join(dir, 'run') });
      const pids = path.join(dir, 'pids');
      const victim = runner(spec(['sh', '-c', `sleep 600 & echo $! >> ${pids}; echo $$ >> ${pids}; echo $PPID >> ${pids}; wait`]));
      // The fixed point: the program, its background child and the launcher (its parent) are known.
      const [background, first, launcher] = (await waitForLines(pids, 3)).map(Number);
      spare.push(background!, first!);
      expect(commandLine(launcher!)).toContain('rearguard-launcher');
      process.kill(launcher!, 'SIGKILL');
      const result = await victim;
      expect(result.exitCode).toBeNull();
      expect(result.connectionLost).toMatch(/^the process launcher of this run stopped \(killed by SIGKILL\) while the program ran: its exit status is unknown$/);
      expect(result.leftovers).toBe(true);
      expect(pidAlive(first!)).toBe(false);
      expect(pidAlive(background!)).toBe(false);
      const after = await runner(spec(['sh', '-c', 'echo $PPID']));
      expect(after.exitCode).toBe(0);
      expect(Number(after.output.trim())).toBe(process.pid);
      await runner.close();
      containment.close();
    });

    it('a launcher that never comes up leaves the programs to rearguard itself', async () => {
      const containment = createContainment({ cgroups, name: `rearguard-launcher-test-${process.pid}` });
      runner = createLocalRunner({ containment, launcherNode: '/bin/false' });
      const results = await Promise.all([1, 2, 3].map(() => runner!(spec(['sh', '-c', 'echo $PPID']))));
      for (const result of results) {
        expect(result.exitCode).toBe(0);
        expect(Number(result.output.trim())).toBe(process.pid);
      }
      await runner.close();
      containment.close();
    });
  });
}

(cgroupsHere ? describe : describe.skip)("the run's launcher, many programs at once", () => {
  it('starts each in its own cgroup, though it starts them together and steps from one cgroup into the next', async () => {
    const containment = createContainment({ name: `rearguard-launcher-test-${process.pid}` });
    runner = createLocalRunner({ containment, runDir: path.join(dir, 'run') });
    const labels = Array.from({ length: 40 }, (_, i) => `unit${i}`);
    // Each program forks at once: the fork lands in the cgroup the program was born in.
    const results = await Promise.all(labels.map((label) => runner!(spec(['sh', '-c', '(cat /proc/self/cgroup) | grep "^0::"'], { label }))));
    results.forEach((result, i) => {
      expect(result.exitCode).toBe(0);
      expect(result.output.trim()).toMatch(new RegExp(`^0::(/.*)?/rearguard-launcher-test-${process.pid}/\\d+-${labels[i]}$`));
    });
    await runner.close();
    containment.close();
    expect(await readFile('/proc/self/cgroup', 'utf8')).not.toContain(`rearguard-launcher-test-${process.pid}/`);
  });
});

describe("the run's launchers, programs queued", () => {
  for (const [launchers, expected] of [[2, 2], [1, 1]] as const) {
    it(`with ${launchers} launcher(s) allowed, 16 programs started at once go to ${expected}`, async () => {
      const containment = createContainment({ cgroups: cgroupsHere, name: `rearguard-launcher-test-${process.pid}` });
      runner = createLocalRunner({ containment, runDir: path.join(dir, 'run'), launchers });
      // The first launcher is still booting as the 16 starts arrive: they queue for it, and a second one is added.
      const results = await Promise.all(Array.from({ length: 16 }, () => runner!(spec(['sh', '-c', 'echo $PPID']))));
      const parents = new Set(results.map((result) => Number(result.output.trim())));
      expect(parents.size).toBe(expected);
      for (const parent of parents) expect(commandLine(parent)).toBe(`${process.execPath} - rearguard-launcher`);
      await runner.close();
      containment.close();
      for (const parent of parents) expect(pidAlive(parent)).toBe(false);
    });
  }
});

/** A FIFO held open for reading, as rearguard holds a program's output pipe; `read()` takes what is in it. */
function outputPipe(): { path: string; read(): string; close(): void } {
  const fifo = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  return {
    path: fifo,
    read() {
      const buffer = Buffer.alloc(65536);
      try {
        return buffer.subarray(0, readSync(fd, buffer)).toString('utf8');
      } catch {
        return '';
      }
    },
    close: () => closeSync(fd),
  };
}

(cgroupsHere ? describe : describe.skip)("the run's launcher, the cgroup of each program", () => {
  let launcher: Launcher | undefined;
  afterEach(async () => {
    await launcher?.close(2_000);
    launcher = undefined;
  });

  it('is made by the launcher as it starts the program, and removed by it at the exit when the program left nothing in it', async () => {
    const containment = createContainment({ name: `rearguard-launcher-test-${process.pid}` });
    const box = containment.open('made-by-the-launcher');
    const placement = box.placement()!;
    // rearguard itself makes no folder for a program the launcher starts.
    expect(existsSync(placement.cgroup)).toBe(false);
    launcher = startLauncher()!;
    const out = outputPipe();
    const start = await launcher.start({ file: '/bin/sh', args: ['-c', 'grep "^0::" /proc/self/cgroup'], env: ENV, out: out.path, placement }, 30_000);
    expect(start).toMatchObject({ kind: 'started', cgroupKept: true });
    const exit = await (start as { exited: Promise<unknown> }).exited;
    expect(exit).toEqual({ exitCode: 0, cgroupRemoved: true });
    expect(out.read().trim()).toMatch(new RegExp(`^0::.*/rearguard-launcher-test-${process.pid}/\\d+-made-by-the-launcher$`));
    expect(existsSync(placement.cgroup)).toBe(false);
    out.close();
    containment.close();
    expect(existsSync(containment.info.cgroup!)).toBe(false);
  });

  it('is left to rearguard when the program left a process in it: the exit says nothing was removed, and the process is found there', async () => {
    const containment = createContainment({ name: `rearguard-launcher-test-${process.pid}` });
    const box = containment.open('left-behind');
    const placement = box.placement()!;
    launcher = startLauncher()!;
    const out = outputPipe();
    const start = await launcher.start({ file: '/bin/sh', args: ['-c', 'setsid sleep 600 >/dev/null 2>&1 & echo $!'], env: ENV, out: out.path, placement }, 30_000);
    expect(start.kind).toBe('started');
    const exit = await (start as { exited: Promise<unknown> }).exited;
    expect(exit).toEqual({ exitCode: 0 });
    const left = Number(out.read().trim());
    spare.push(left);
    expect(pidAlive(left)).toBe(true);
    expect(cgroupPopulated(placement.cgroup)).toBe(true);
    expect(readFileSync(path.join(placement.cgroup, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(left));
    signalCgroup(placement.cgroup, 'SIGKILL');
    for (let i = 0; i < 200 && cgroupPopulated(placement.cgroup); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(removeCgroup(placement.cgroup)).toBe(true);
    out.close();
    containment.close();
  });
});

/** The launchers this process started that are still running. */
function ownLaunchers(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === process.pid && commandLine(pid).endsWith(' - rearguard-launcher');
      } catch {
        return false;
      }
    });
}

describe("the run's launcher, started ahead", () => {
  it('is the one the next run takes: its start overlaps reading the config, not the first program', async () => {
    const before = ownLaunchers();
    prestartLauncher();
    prestartLauncher();
    const ahead = ownLaunchers().filter((pid) => !before.includes(pid));
    // Started once, however often asked.
    expect(ahead).toHaveLength(1);
    const containment = createContainment({ cgroups: cgroupsHere, name: `rearguard-launcher-test-${process.pid}` });
    runner = createLocalRunner({ containment, runDir: path.join(dir, 'run') });
    const result = await runner(spec(['sh', '-c', 'echo $PPID']));
    expect(Number(result.output.trim())).toBe(ahead[0]);
    // No second launcher was started for the run.
    expect(ownLaunchers().filter((pid) => !before.includes(pid))).toEqual(ahead);
    await runner.close();
    runner = undefined;
    containment.close();
    expect(pidAlive(ahead[0]!)).toBe(false);
  });
});

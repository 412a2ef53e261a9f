// The run's launcher: plain programs are started by it (not by rearguard's own large process), each born in its own cgroup even when many start at once; a launcher that dies or never comes up costs no program its answer or its containment.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContainment, describeContainment } from '../../src/exec/containment.js';
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

// cgroup v2 per process tree: find a writable hierarchy, make a group, signal everything in it, remove it.
import { processExists } from '../util/process-exists.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where cgroups of this process can be made, or why not. */
export type CgroupSupport = { ok: true; base: string } | { ok: false; reason: string };

/** The cgroup v2 mount point, from /proc/self/mountinfo (hybrid hosts mount it at /sys/fs/cgroup/unified). */
export function findCgroup2Mount(mountinfo = readText('/proc/self/mountinfo')): string | undefined {
  for (const line of mountinfo?.split('\n') ?? []) {
    // "id parent major:minor root mountpoint options ... - fstype source superoptions"
    const [left, right] = line.split(' - ');
    if (!left || !right || right.split(' ')[0] !== 'cgroup2') continue;
    const mountPoint = left.split(' ')[4];
    if (mountPoint) return mountPoint.replace(/\\040/g, ' ');
  }
  return undefined;
}

/** This process's own cgroup v2 path ("0::/path" in /proc/self/cgroup). */
export function ownCgroupPath(procCgroup = readText('/proc/self/cgroup')): string | undefined {
  const line = procCgroup?.split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? undefined : line.slice(3).trim() || '/';
}

/**
 * Makes `<mount><own cgroup>/<name>` and checks that it offers cgroup.kill (Linux 5.14+).
 * The folder is removed again when it cannot be used, so a refused probe leaves nothing.
 */
export function prepareCgroupBase(name: string): CgroupSupport {
  const mount = findCgroup2Mount();
  if (!mount) return { ok: false, reason: 'no cgroup v2 hierarchy is mounted' };
  const own = ownCgroupPath();
  if (own === undefined) return { ok: false, reason: 'this process has no cgroup v2 path in /proc/self/cgroup' };
  const base = path.join(mount, own, name);
  removeDeadRunCgroups(path.dirname(base));
  try {
    mkdirSync(base);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') return { ok: false, reason: `cannot create ${base} (${code ?? (error as Error).message}); run as root or delegate the cgroup` };
  }
  if (!existsSync(path.join(base, 'cgroup.kill'))) {
    removeCgroup(base);
    return { ok: false, reason: `${base} has no cgroup.kill (the kernel is older than 5.14)` };
  }
  return { ok: true, base };
}

/**
 * Removes empty `rearguard-<pid>` folders of runs that no longer exist (a run killed with SIGKILL
 * cannot remove its own). rmdir refuses a cgroup that still holds processes, so a dead run's
 * groups with live processes stay for the run that recovers its lock to stop.
 */
export function removeDeadRunCgroups(parent: string): void {
  for (const child of readChildren(parent)) {
    const pid = Number(/^rearguard-(?:probe-)?(\d+)$/.exec(path.basename(child))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processExists(pid)) continue;
    if (!cgroupPopulated(child)) removeCgroup(child);
  }
}


/** Creates the cgroup `dir`; false when the kernel refused. */
export function createCgroup(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

/** Moves `pid` into the cgroup; false when the kernel refused (the process is then only in its process group). */
export function moveIntoCgroup(dir: string, pid: number): boolean {
  try {
    writeFileSync(path.join(dir, 'cgroup.procs'), `${pid}\n`);
    return true;
  } catch {
    return false;
  }
}

/** The pids that are direct members of a cgroup (its child groups have their own list). */
export function cgroupPids(dir: string): number[] {
  const text = readText(path.join(dir, 'cgroup.procs'));
  return (text ?? '').split('\n').filter(Boolean).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** True while any process lives in the cgroup or below it ("populated 1" in cgroup.events). */
export function cgroupPopulated(dir: string): boolean {
  const events = readText(path.join(dir, 'cgroup.events'));
  if (events === undefined) return false;
  return /^populated 1$/m.test(events);
}

/** Sends `signal` to every process of the cgroup (SIGKILL goes through cgroup.kill, which also catches forks in flight). */
export function signalCgroup(dir: string, signal: NodeJS.Signals): void {
  if (signal === 'SIGKILL') {
    try {
      writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      return;
    } catch {
      // Older kernels: fall through to one kill per member.
    }
  }
  for (const pid of cgroupPids(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** SIGTERM to everything in the cgroup, SIGKILL after `graceMs`; resolves when it is empty. */
export async function terminateCgroup(dir: string, graceMs: number): Promise<void> {
  if (!cgroupPopulated(dir)) return;
  signalCgroup(dir, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    if (!cgroupPopulated(dir)) return;
  }
  signalCgroup(dir, 'SIGKILL');
  for (let i = 0; i < 80 && cgroupPopulated(dir); i += 1) await sleep(25);
}

/** Removes an empty cgroup (and its empty children); false when it still holds processes or is gone. */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') {
      // Child groups first; rmdir on a cgroup ignores its interface files but not child groups.
      const children = readChildren(dir);
      if (children.length === 0) return false;
      for (const child of children) removeCgroup(child);
      try {
        rmdirSync(dir);
        return true;
      } catch {
        return false;
      }
    }
    return false;
  }
}

function readChildren(dir: string): string[] {
  try {
    // Interface files are regular files; child groups are the only folders.
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.join(dir, entry.name));
  } catch {
    return [];
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

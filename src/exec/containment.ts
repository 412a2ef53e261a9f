// How a run keeps every process it starts inside its reach: a cgroup v2 per process tree where the kernel allows, else its process group; plus a parent-death signal.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { cgroupPids, cgroupPopulated, createCgroup, moveIntoCgroup, prepareCgroupBase, removeCgroup, terminateCgroup, signalCgroup } from './cgroup.js';
import { groupAlive, signalGroup, terminateGroup } from './process-group.js';

/** The strongest mechanism in use: `cgroup` catches `setsid` escapes; `process-group` does not. */
export type ContainmentMechanism = 'cgroup' | 'process-group';

/** What `plan` and the report show about containment. */
export interface ContainmentInfo {
  mechanism: ContainmentMechanism;
  /** The run's cgroup folder when mechanism is `cgroup`. */
  cgroup?: string;
  /** True when each first process gets SIGKILL as soon as rearguard dies: setpriv is there for the programs the launcher does not start. */
  parentDeathSignal: boolean;
  /** One line for people: what is used and, for a weaker mechanism, why the stronger one is not. */
  summary: string;
}

/** Options of a run's containment. */
export interface ContainmentOptions {
  /** false: do not use cgroups (hosts where another manager owns them; tests of the fallback). Default true. */
  cgroups?: boolean;
  /** The run's name in the cgroup tree; unique per live run. Default `rearguard-<pid>`. */
  name?: string;
}

/** The processes of one started program: its cgroup (when there is one) and its process group. */
export interface ProcessBox {
  cgroup?: string;
  pgid?: number;
  /**
   * Starts a process inside the box: `start` must spawn synchronously. The child is born in the
   * cgroup (rearguard steps into it for the spawn and back out), so not even a fork in its first
   * microsecond escapes; moving it afterwards would race with a fast program.
   */
  spawn<T extends { pid?: number | undefined }>(start: () => T): T;
  /**
   * Where another process (the run's launcher) must step for a spawn, so its child is born in the cgroup:
   * the cgroup and the cgroup to step back into. Undefined without a cgroup. That process makes the cgroup's
   * folder (`spawn()` makes it for a start in rearguard itself): rearguard's event loop never waits on the
   * kernel's cgroup lock, which the launcher's steps from one cgroup into the next hold over and over.
   */
  placement(): { cgroup: string; home: string } | undefined;
  /**
   * Takes in a process started elsewhere: its pid (the process group it leads), and whether it is in the
   * box's cgroup (`false`: the cgroup is given up, and only the process group is left).
   */
  adopt(pid: number | undefined, inCgroup: boolean): void;
  /**
   * The process that started the program removed its cgroup right after the program's exit, which the kernel
   * allows only for an empty one: nothing of the box is left, and there is nothing left to remove.
   */
  removedEmpty(): void;
  /** True while any process of the box is alive. */
  alive(): boolean;
  /** SIGTERM to everything in the box, SIGKILL after `graceMs`. */
  terminate(graceMs: number): Promise<void>;
  /** SIGKILL to everything left, at once. */
  kill(): void;
  /** Removes the cgroup folder (once the box is empty). */
  release(): void;
}

/** A run's containment: decided once, then one box per started program. */
export interface Containment {
  info: ContainmentInfo;
  /** The argv that starts `argv` with a parent-death signal (unchanged where setpriv is missing). */
  wrap(argv: string[]): string[];
  /** A box for one program; `label` names its cgroup folder, which is made by whatever starts the program. */
  open(label: string): ProcessBox;
  /** Removes the run's cgroup folder (after every box was released). */
  close(): void;
}

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];

/** The setpriv of util-linux, which sets PR_SET_PDEATHSIG and then execs the program; undefined when absent. */
export function findSetpriv(): string | undefined {
  for (const candidate of SETPRIV_PATHS) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Sets up a run's containment: probes (and keeps) its cgroup folder, finds setpriv. */
export function createContainment(options: ContainmentOptions = {}): Containment {
  const setpriv = findSetpriv();
  const name = options.name ?? `rearguard-${process.pid}`;
  const support = options.cgroups === false ? { ok: false as const, reason: 'cgroups are turned off for this run' } : prepareCgroupBase(name);
  const base = support.ok ? support.base : undefined;
  // The run's launcher (launcher-source.ts) stops its first processes when rearguard dies; setpriv does it for
  // the programs rearguard starts itself (those whose stdin or stdout is a stream of rearguard's).
  const deathText = setpriv
    ? 'each first process gets SIGKILL when rearguard dies (from the run\'s launcher, or setpriv --pdeathsig)'
    : 'each first process started by the run\'s launcher gets SIGKILL when rearguard dies; one fed by a stream has no parent-death signal (setpriv from util-linux is missing): what a killed run leaves is stopped by the next run';
  const info: ContainmentInfo = base
    ? { mechanism: 'cgroup', cgroup: base, parentDeathSignal: Boolean(setpriv), summary: `a cgroup per process tree under ${base} (setsid escapes are caught); ${deathText}` }
    : {
        mechanism: 'process-group',
        parentDeathSignal: Boolean(setpriv),
        summary: `a process group per process tree (a process that calls setsid escapes it; no cgroup: ${support.ok ? '' : support.reason}); ${deathText}`,
      };
  let seq = 0;
  return {
    info,
    wrap: (argv) => (setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', '--', ...argv] : argv),
    open(label) {
      seq += 1;
      const cgroup = base && path.join(base, `${seq}-${label.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 60)}`);
      return makeBox(cgroup, base ? path.dirname(base) : undefined);
    },
    close() {
      if (base) removeCgroup(base);
    },
  };
}

function makeBox(initialCgroup: string | undefined, home: string | undefined): ProcessBox {
  // Not made yet: the folder exists once spawn() made it, or once a process started elsewhere was adopted into it.
  let cgroup = initialCgroup;
  let pgid: number | undefined;
  // The cgroup was removed empty after the program's exit (removedEmpty()).
  let gone = false;
  // rearguard itself must never be in a box it signals: cgroup.kill would take it down too. It is only ever in
  // one while spawn() steps in; spawn() checks once that it is out again, and gives the cgroup up otherwise.
  const usable = (): string | undefined => cgroup;
  const box: ProcessBox = {
    get cgroup() {
      return cgroup;
    },
    get pgid() {
      return pgid;
    },
    spawn(start) {
      // Refused: the box has only its process group.
      if (cgroup !== undefined && !createCgroup(cgroup)) cgroup = undefined;
      const target = cgroup;
      const stepped = target !== undefined && home !== undefined && moveIntoCgroup(target, process.pid);
      let child;
      try {
        child = start();
      } finally {
        if (stepped && (!moveIntoCgroup(home, process.pid) || cgroupPids(target).includes(process.pid))) {
          // Still inside: give the cgroup up rather than risk signalling ourselves.
          cgroup = undefined;
        }
      }
      // Where stepping in was refused, a move right after the spawn is the next best thing.
      if (child.pid !== undefined) box.adopt(child.pid, stepped || (cgroup !== undefined && moveIntoCgroup(cgroup, child.pid)));
      return child;
    },
    placement() {
      return cgroup !== undefined && home !== undefined ? { cgroup, home } : undefined;
    },
    adopt(pid, inCgroup) {
      if (pid !== undefined) pgid = pid;
      if (cgroup && !inCgroup) {
        removeCgroup(cgroup);
        cgroup = undefined;
      }
    },
    removedEmpty() {
      gone = true;
    },
    alive() {
      if (gone) return false;
      const group = usable();
      // Nothing leaves a cgroup but by root's hand: an empty one means the whole tree is gone,
      // without scanning /proc for the process group.
      if (group) return cgroupPopulated(group);
      return pgid !== undefined && groupAlive(pgid);
    },
    async terminate(graceMs) {
      if (gone) return;
      const group = usable();
      // The process group first: it is where a well-behaved tree lives; the cgroup catches what left it.
      await Promise.all([
        pgid !== undefined ? terminateGroup(pgid, graceMs) : Promise.resolve(),
        group ? terminateCgroup(group, graceMs) : Promise.resolve(),
      ]);
    },
    kill() {
      if (gone) return;
      const group = usable();
      if (group) signalCgroup(group, 'SIGKILL');
      if (pgid !== undefined && groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    },
    release() {
      if (cgroup && !gone) removeCgroup(cgroup);
    },
  };
  return box;
}

/** What containment this host would give a run, for `plan`: probes and removes a cgroup folder, starts nothing. */
export function describeContainment(options: ContainmentOptions = {}): ContainmentInfo {
  const probe = createContainment({ ...options, name: options.name ?? `rearguard-probe-${process.pid}` });
  probe.close();
  const { cgroup: _unused, ...info } = probe.info;
  return info.mechanism === 'cgroup' ? { ...info, summary: info.summary.replace(/ under \S+/, '') } : info;
}

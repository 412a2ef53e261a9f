// What a killed run left running, found from its live record file (live-journal.ts), and how the run that recovers its stale lock stops it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RearguardError } from '../errors.js';
import { cgroupPids, cgroupPopulated, removeCgroup, signalCgroup } from '../exec/cgroup.js';
import { groupAlive, signalGroup } from '../exec/process-group.js';
import { openLiveJournal, readLiveJournal, type LiveRecord } from './live-journal.js';

/** Processes of a dead run that were still running, found by the run that recovered its lock. */
export interface Leftover {
  record: LiveRecord;
  pids: number[];
}

/** A stale lock's run left processes running and the config asks to refuse rather than stop them. */
export class LeftoverProcessesError extends RearguardError {
  override name = 'LeftoverProcessesError';
  constructor(
    readonly runId: string,
    readonly leftovers: Leftover[],
  ) {
    super(
      `the killed run ${runId} left processes running: ${describeLeftovers(leftovers)}; ` +
        'expected none, so nothing was started (a second copy of a backup must not run beside the first): ' +
        'stop them by hand, or set defaults.leftovers: stop to let rearguard stop them',
    );
  }
}

/** The recorded programs of a run that still have live processes, with their pids. */
export function findLeftovers(runDir: string): Leftover[] {
  const out: Leftover[] = [];
  for (const record of readLiveJournal(runDir)) {
    const pids = livePids(record);
    if (pids.length > 0) out.push({ record, pids });
  }
  return out;
}

/** What stopping a dead run's processes did. */
export interface StopOutcome {
  stopped: Leftover[];
  /** Processes that were still alive after SIGKILL (e.g. in uninterruptible sleep on a hung NFS mount). */
  survivors: Leftover[];
}

/**
 * Stops what a dead run left: SIGTERM to every recorded cgroup and process group, SIGKILL after the
 * longest recorded kill grace, then removes the records and empty cgroups. Only the dead run's own
 * groups are touched: a process group id is trusted only while its leader is the recorded process
 * or gone (a pgid is never reused while its group has members).
 */
export async function stopLeftovers(runDir: string, maxGraceMs = 60_000): Promise<StopOutcome> {
  const leftovers = findLeftovers(runDir);
  for (const { record } of leftovers) signalRecord(record, 'SIGTERM');
  const grace = Math.min(maxGraceMs, Math.max(0, ...leftovers.map((l) => l.record.kill_grace_ms)));
  const deadline = Date.now() + grace;
  while (Date.now() < deadline && leftovers.some((l) => livePids(l.record).length > 0)) await sleep(50);
  for (const { record } of leftovers) if (livePids(record).length > 0) signalRecord(record, 'SIGKILL');
  for (let i = 0; i < 80 && leftovers.some((l) => livePids(l.record).length > 0); i += 1) await sleep(25);
  const survivors: Leftover[] = [];
  const records = readLiveJournal(runDir);
  const journal = openLiveJournal(runDir, records.map((record) => record.id));
  try {
    for (const record of records) {
      const pids = livePids(record);
      if (pids.length > 0) {
        survivors.push({ record, pids });
        continue;
      }
      if (record.cgroup) removeCgroup(record.cgroup);
      journal.forget(record.id);
    }
  } finally {
    // Gone with what it recorded; kept, naming only the survivors, when something could not be stopped.
    journal.close();
  }
  const bases = new Set(readLiveCgroupBases(leftovers));
  for (const base of bases) removeCgroup(base);
  return { stopped: leftovers, survivors };
}

/** "restic-home: pids 4711, 4712 (cgroup /sys/fs/cgroup/...); app-db: pid 99 (process group 99)". */
export function describeLeftovers(leftovers: Leftover[]): string {
  return leftovers
    .map(({ record, pids }) => {
      const where = record.cgroup ? `cgroup ${record.cgroup}` : `process group ${record.pgid}`;
      return `${record.label} (${record.program}): pid${pids.length === 1 ? '' : 's'} ${pids.join(', ')} in ${where}`;
    })
    .join('; ');
}

function readLiveCgroupBases(leftovers: Leftover[]): string[] {
  return leftovers.flatMap(({ record }) => (record.cgroup ? [path.dirname(record.cgroup)] : []));
}

function signalRecord(record: LiveRecord, signal: NodeJS.Signals): void {
  if (record.cgroup && cgroupPopulated(record.cgroup)) signalCgroup(record.cgroup, signal);
  if (groupIsOurs(record)) signalGroup(record.pgid, signal);
}

/** The live pids of a record: its cgroup's members, else the members of its process group. */
function livePids(record: LiveRecord): number[] {
  const pids = new Set<number>();
  if (record.cgroup && cgroupPopulated(record.cgroup)) for (const pid of cgroupPids(record.cgroup)) pids.add(pid);
  if (groupIsOurs(record)) for (const pid of groupMembers(record.pgid)) pids.add(pid);
  return [...pids].sort((a, b) => a - b);
}

function groupIsOurs(record: LiveRecord): boolean {
  // pgid 0 would mean "my own group" to kill(2): a record made before the spawn has none yet.
  if (!(record.pgid > 0) || !groupAlive(record.pgid)) return false;
  const start = processStartTime(record.pgid);
  // The leader is gone (its group lives on in its children), or it is the very process recorded.
  return start === undefined || record.pid_start === undefined || start === record.pid_start;
}

function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat); undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

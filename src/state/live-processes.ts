// What a run records of its live process trees (state_dir/runs/<id>/live/), so the run that recovers its stale lock can stop them.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { RearguardError } from '../errors.js';
import { cgroupPids, cgroupPopulated, removeCgroup, signalCgroup } from '../exec/cgroup.js';
import { groupAlive, signalGroup } from '../exec/process-group.js';

/** One started program as recorded while it runs. */
export interface LiveRecord {
  /** Unique in the run; the record's file name. */
  id: string;
  /** The unit (or check) it belongs to, for messages. */
  label: string;
  /** The program, for messages (never its arguments: they may hold secrets). */
  program: string;
  /** 0 in the record written just before the spawn (then the cgroup alone says what belongs to it). */
  pid: number;
  /** Kernel start time of `pid`, to tell a reused pid from the original. */
  pid_start?: string;
  /** Its process group (the first process leads it). */
  pgid: number;
  /** Its cgroup folder, when cgroups are used. */
  cgroup?: string;
  kill_grace_ms: number;
  started_at: string;
}

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

/** The folder of live records in a run folder. */
export function liveDir(runDir: string): string {
  return path.join(runDir, 'live');
}

/**
 * Records a program; synchronous and atomic (temp file, rename), so a kill right after still finds
 * it. No fsync: the record only has to outlive rearguard, not the machine, whose reboot ends the
 * processes too; an fsync here would widen the moment in which a just-started program is not yet
 * recorded.
 */
export function recordLive(runDir: string, record: LiveRecord): void {
  const dir = liveDir(runDir);
  const file = path.join(dir, `${record.id}.json`);
  const temp = `${file}.tmp`;
  let fd: number;
  try {
    fd = openSync(temp, 'w', 0o600);
  } catch (error) {
    // The folder is made with the run's first record (one mkdir per run, not one per program).
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = openSync(temp, 'w', 0o600);
  }
  try {
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    // A record that could not be completed leaves no temp file behind (only a kill can leave one).
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Forgets a program once nothing of it runs any more. */
export function forgetLive(runDir: string, id: string): void {
  try {
    unlinkSync(path.join(liveDir(runDir), `${id}.json`));
  } catch {
    // Already gone.
  }
}

/** Removes the live folder of a run that ended normally (empty by then). */
export function closeLiveDir(runDir: string): void {
  try {
    rmdirSync(liveDir(runDir));
  } catch {
    // Missing, or records of processes that could not be stopped: keep them for the next run.
  }
}

/**
 * The records a run left. A record whose run was killed between its write and its rename is still a temp
 * file: read it when whole (it may be the only record of a program already started); a torn one does not
 * parse and is skipped.
 */
export function readLive(runDir: string): LiveRecord[] {
  let names: string[];
  try {
    names = readdirSync(liveDir(runDir));
  } catch {
    return [];
  }
  // By id: "<id>.json.tmp" sorts after "<id>.json" and, being the later write, replaces it.
  const records = new Map<string, LiveRecord>();
  for (const name of names.filter((n) => n.endsWith('.json') || n.endsWith('.json.tmp')).sort()) {
    try {
      const record = JSON.parse(readFileSync(path.join(liveDir(runDir), name), 'utf8')) as LiveRecord;
      records.set(record.id, record);
    } catch {
      // skip
    }
  }
  return [...records.values()];
}

/** The recorded programs of a run that still have live processes, with their pids. */
export function findLeftovers(runDir: string): Leftover[] {
  const out: Leftover[] = [];
  for (const record of readLive(runDir)) {
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
  for (const record of readLive(runDir)) {
    const pids = livePids(record);
    if (pids.length > 0) {
      survivors.push({ record, pids });
      continue;
    }
    if (record.cgroup) removeCgroup(record.cgroup);
    forgetLive(runDir, record.id);
  }
  const bases = new Set(readLiveCgroupBases(leftovers));
  for (const base of bases) removeCgroup(base);
  removeTornRecords(runDir, new Set(survivors.map(({ record }) => `${record.id}.json.tmp`)));
  closeLiveDir(runDir);
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

/** Removes the temp files of records the kill tore mid-write (they name nothing, and would keep the folder), except `keep`. */
function removeTornRecords(runDir: string, keep: Set<string>): void {
  let names: string[];
  try {
    names = readdirSync(liveDir(runDir));
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.endsWith('.tmp') && !keep.has(n))) {
    try {
      unlinkSync(path.join(liveDir(runDir), name));
    } catch {
      // Already gone.
    }
  }
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

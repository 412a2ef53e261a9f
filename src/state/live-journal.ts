// The record of a run's live programs (state_dir/runs/<id>/live.jsonl): one line appended as each program starts and
// one as it ends, so the run that recovers a stale lock knows what a killed run left running. The file exists, and is
// open, only while a program it names runs: it goes with the last of them, so a run between programs holds nothing
// open in state_dir and takes no room there.
//
// Why one file appended to, not a file per program: a file per program was made under a temp name, renamed and
// removed, three changes to the run folder for every program a run starts, each a synchronous update of the file
// system on rearguard's event loop. With programs running side by side, an append to the open file is one write. A
// line is whole or, at worst, torn by a kill during its write; a torn line does not parse and is skipped, as a torn
// file was.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/** One started program as recorded while it runs. */
export interface LiveRecord {
  /** Unique in the run. */
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

/** The line that says a recorded program and everything in its box is gone. */
interface EndLine {
  ended: string;
}

/** The live record file of a run folder. */
export function liveJournalPath(runDir: string): string {
  return path.join(runDir, 'live.jsonl');
}

/** Appends to one run's live record file; the file is made and opened by a record, and closed and removed with the last program's end. */
export interface LiveJournal {
  /**
   * Records a program; synchronous, so a kill right after still finds it. No fsync: the record only has to outlive
   * rearguard, not the machine, whose reboot ends the processes too. Throws when the line cannot be written.
   */
  record(record: LiveRecord): void;
  /**
   * Says a program is gone, once nothing of it runs any more; with the last one the file is closed and removed. A
   * line that cannot be written is left out: the run that reads the record then finds nothing of that program.
   */
  forget(id: string): void;
  /** Ends the appends: the file is closed, and stays only while it names a program that may still run. */
  close(): void;
}

/**
 * The live record file of `runDir`, to append to. `recorded` are the ids it already holds that are still live
 * (a killed run's, read by the run that stops them); a new run's file starts empty.
 */
export function openLiveJournal(runDir: string, recorded: Iterable<string> = []): LiveJournal {
  const file = liveJournalPath(runDir);
  const live = new Set(recorded);
  let fd: number | undefined;
  let closed = false;
  // Set when the file may end in a torn line (a write that failed, or a killed run's last one): the next line
  // then starts on a line of its own, so the torn one never swallows it.
  let torn = false;
  const open = (): number => {
    // Read and write: its last byte is read once, to tell whether it ends in a torn line.
    const flags = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
    let opened: number;
    try {
      opened = openSync(file, flags, 0o600);
    } catch (error) {
      // A run folder made by a caller outside a run (a bare exec layer): made with its first record.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      mkdirSync(runDir, { recursive: true, mode: 0o700 });
      opened = openSync(file, flags, 0o600);
    }
    torn = !endsWithLineBreak(opened);
    return opened;
  };
  const append = (line: string): void => {
    if (closed) throw new Error(`the live record file ${file} is closed`);
    fd ??= open();
    const bytes = Buffer.from(`${torn ? '\n' : ''}${line}\n`);
    try {
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
      torn = false;
    } catch (error) {
      torn = true;
      throw error;
    }
  };
  const release = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
    if (live.size > 0) return;
    try {
      rmSync(file, { force: true });
    } catch {
      // A read-only state_dir: what the file names is gone, which the run that reads it will find.
    }
  };
  return {
    record(record) {
      append(JSON.stringify(record));
      live.add(record.id);
    },
    forget(id) {
      if (!live.delete(id)) return;
      if (live.size === 0) return release();
      try {
        append(JSON.stringify({ ended: id } satisfies EndLine));
      } catch {
        // A full or read-only state_dir: the record stays, and the run that reads it finds nothing of it running.
      }
    },
    close() {
      if (closed) return;
      closed = true;
      release();
    },
  };
}

/**
 * The programs a run's live record file holds as still running, in the order they started: each recorded one
 * that has no line saying it ended. Torn and unknown lines are skipped; a missing file holds none.
 */
export function readLiveJournal(runDir: string): LiveRecord[] {
  let text: string;
  try {
    text = readFileSync(liveJournalPath(runDir), 'utf8');
  } catch {
    return [];
  }
  const records = new Map<string, LiveRecord>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (isEndLine(parsed)) records.delete(parsed.ended);
    else if (isLiveRecord(parsed)) records.set(parsed.id, parsed);
  }
  return [...records.values()];
}

function isEndLine(value: unknown): value is EndLine {
  return typeof value === 'object' && value !== null && typeof (value as EndLine).ended === 'string';
}

function isLiveRecord(value: unknown): value is LiveRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as LiveRecord;
  return typeof record.id === 'string' && typeof record.pid === 'number' && typeof record.pgid === 'number' && typeof record.kill_grace_ms === 'number';
}

/** Whether an open file is empty or ends with a line break. */
function endsWithLineBreak(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a;
}

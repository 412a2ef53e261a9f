// The live record file of a run: a line as each program starts and one as it ends, read back as what still runs;
// torn lines are skipped and never swallow the next one; the file exists only while something it names runs.
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveJournalPath, openLiveJournal, readLiveJournal, type LiveRecord } from '../../../src/state/live-journal.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

function record(id: string, pid = 0): LiveRecord {
  return { id, label: `unit-${id}`, program: 'true', pid, pgid: pid, kill_grace_ms: 500, started_at: '2026-01-01T00:00:00.000Z', cgroup: `/sys/fs/cgroup/x/${id}` };
}

let ws: Workspace;
let runDir: string;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-live-journal-');
  runDir = ws.file('runs/20260101T000000Z-abcd');
});
afterEach(async () => {
  await ws.cleanup();
});

describe('live record file', () => {
  it('holds the programs started and not yet ended, in the order they started, one line each', () => {
    const journal = openLiveJournal(runDir);
    journal.record(record('1'));
    journal.record(record('2', 4711));
    journal.record(record('3'));
    journal.forget('1');
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['2', '3']);
    expect(readLiveJournal(runDir)[0]).toEqual(record('2', 4711));
    // Four lines appended to one file, which was made with the first record (the run folder too).
    expect(readFileSync(liveJournalPath(runDir), 'utf8').trimEnd().split('\n')).toHaveLength(4);
    journal.forget('2');
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['3']);
  });

  it('is removed at close once every program it recorded ended, and kept naming the others when some did not', () => {
    const done = openLiveJournal(runDir);
    done.record(record('1'));
    done.forget('1');
    done.close();
    expect(existsSync(liveJournalPath(runDir))).toBe(false);

    const left = openLiveJournal(runDir);
    left.record(record('1'));
    left.record(record('2'));
    left.forget('1');
    left.close();
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['2']);
    // The run that stops what was left appends to the same file, and removes it once nothing is left.
    const next = openLiveJournal(runDir, ['2']);
    next.forget('2');
    next.close();
    expect(existsSync(liveJournalPath(runDir))).toBe(false);
  });

  it('exists only while a program it names runs: it goes with the last one, and comes back with the next', () => {
    const journal = openLiveJournal(runDir);
    journal.record(record('1'));
    journal.record(record('2'));
    journal.forget('2');
    expect(existsSync(liveJournalPath(runDir))).toBe(true);
    journal.forget('1');
    expect(existsSync(liveJournalPath(runDir))).toBe(false);
    journal.record(record('3'));
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['3']);
    // Nothing of the programs that ended is left in it.
    expect(readFileSync(liveJournalPath(runDir), 'utf8').trimEnd().split('\n')).toHaveLength(1);
    journal.forget('3');
    journal.close();
    expect(existsSync(liveJournalPath(runDir))).toBe(false);
  });

  it('is never made by a run that starts no program', () => {
    openLiveJournal(runDir).close();
    expect(existsSync(runDir)).toBe(false);
  });

  it('skips a line torn by a kill, and the next line appended after it starts on a line of its own', () => {
    const whole = JSON.stringify(record('1'));
    const torn = JSON.stringify(record('2')).slice(0, 40);
    const journal = openLiveJournal(runDir);
    journal.record(record('0'));
    journal.close();
    writeFileSync(liveJournalPath(runDir), `${whole}\n${torn}`, { flag: 'a' });
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['0', '1']);
    // The run that recovers appends its end lines after the torn one: they must not join it.
    const next = openLiveJournal(runDir, ['0', '1']);
    next.forget('0');
    next.close();
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['1']);
    expect(readFileSync(liveJournalPath(runDir), 'utf8')).toContain(`${torn}\n{"ended":"0"}\n`);
  });

  it('skips lines that are JSON but no record', () => {
    const journal = openLiveJournal(runDir);
    journal.record(record('1'));
    journal.close();
    writeFileSync(liveJournalPath(runDir), '[]\n{"id":"2"}\n"text"\n{"ended":7}\n', { flag: 'a' });
    expect(readLiveJournal(runDir).map((r) => r.id)).toEqual(['1']);
  });

  it('refuses to write through a symbolic link planted under its name', () => {
    const target = ws.file('elsewhere');
    writeFileSync(target, '');
    const journal = openLiveJournal(ws.dir);
    symlinkSync(target, path.join(ws.dir, 'live.jsonl'));
    expect(() => journal.record(record('1'))).toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('');
  });
});

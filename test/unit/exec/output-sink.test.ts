// The output pipes of local processes: real FIFOs made by mkfifo, ahead of need, in a private folder.
import { closeSync, constants, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeFifoPool, openOutputSink, prefillFifoPool } from '../../../src/exec/output-sink.js';
import { waitFor } from '../../helpers/systemctl.js';

/** The pool folders of this process (their name carries its pid). */
function poolFolders(): string[] {
  return readdirSync(os.tmpdir())
    .filter((name) => name.startsWith(`rearguard-pipes-${process.pid}-`))
    .map((name) => path.join(os.tmpdir(), name));
}

afterAll(() => closeFifoPool());

describe('output sinks', () => {
  it('makes the first pipes before any process asks for one, in a private folder, and takes the next from there', async () => {
    expect(poolFolders()).toEqual([]);
    prefillFifoPool();
    await waitFor(() => poolFolders().length === 1 && readdirSync(poolFolders()[0]!).length > 0, 'the pipes made ahead');
    const [folder] = poolFolders();
    expect(statSync(folder!).mode & 0o777).toBe(0o700);

    const sink = await openOutputSink({ captureMax: 1024 });
    expect(path.dirname(sink.path)).toBe(folder);
    expect(statSync(sink.path).isFIFO()).toBe(true);
    writeSync(sink.fd, 'from the first process\n');
    sink.closeWriteEnd();
    // Its name is gone with rearguard's write end.
    expect(existsSync(sink.path)).toBe(false);
    expect((await sink.finish(1000)).captured).toBe('from the first process\n');
  });

  it('gives each of 150 processes at once its own pipe, across the batches that follow, and reads each one whole', async () => {
    const sinks = await Promise.all(Array.from({ length: 150 }, () => openOutputSink({ captureMax: 1024 })));
    expect(new Set(sinks.map((sink) => sink.path)).size).toBe(150);
    expect(new Set(sinks.map((sink) => path.dirname(sink.path)))).toEqual(new Set(poolFolders()));
    sinks.forEach((sink, i) => {
      writeSync(sink.fd, `process ${i}\n`);
      sink.closeWriteEnd();
    });
    const summaries = await Promise.all(sinks.map((sink) => sink.finish(1000)));
    expect(summaries.map((summary) => summary.captured)).toEqual(sinks.map((_, i) => `process ${i}\n`));
  });

  it('takes a pipe back once its stream ended, under a name no process was given, and the next process reads only its own output', async () => {
    const first = await openOutputSink({ captureMax: 1024 });
    const folder = path.dirname(first.path);
    const before = new Set(readdirSync(folder));
    writeSync(first.fd, 'first\n');
    first.closeWriteEnd();
    const parked = readdirSync(folder).filter((name) => !before.has(name));
    expect(parked).toHaveLength(1);
    expect(statSync(path.join(folder, parked[0]!)).isFIFO()).toBe(true);
    expect((await first.finish(1000)).captured).toBe('first\n');

    const next = await openOutputSink({ captureMax: 1024 });
    expect(next.path).toBe(path.join(folder, parked[0]!));
    expect(next.path).not.toBe(first.path);
    writeSync(next.fd, 'next\n');
    next.closeWriteEnd();
    expect((await next.finish(1000)).captured).toBe('next\n');
  });

  it('removes a pipe whose writer outlived the drain, and never hands it out again', async () => {
    const sink = await openOutputSink({ captureMax: 1024 });
    const folder = path.dirname(sink.path);
    // A process that escaped its program's end and still holds the pipe.
    const escaped = openSync(sink.path, constants.O_WRONLY);
    const before = new Set(readdirSync(folder));
    sink.closeWriteEnd();
    const parked = readdirSync(folder).filter((name) => !before.has(name));
    expect(parked).toHaveLength(1);
    await sink.finish(50);
    expect(existsSync(path.join(folder, parked[0]!))).toBe(false);
    const later = await Promise.all(Array.from({ length: 40 }, () => openOutputSink({ captureMax: 1024 })));
    expect(later.map((s) => path.basename(s.path))).not.toContain(parked[0]);
    for (const s of later) {
      s.closeWriteEnd();
      await s.finish(100);
    }
    closeSync(escaped);
  });

  it('removes its folder, with the pipes left in it, when closed', async () => {
    const sink = await openOutputSink({ captureMax: 1024 });
    const folder = path.dirname(sink.path);
    sink.closeWriteEnd();
    expect(readdirSync(folder).length).toBeGreaterThan(0);
    closeFifoPool();
    expect(existsSync(folder)).toBe(false);
    await sink.finish(100);
  });
});

// restoreTarStream with real processes: a tar printed on stdout lands in scratch; a failed tool, a cut stream and garbage each fail, and a reader that stops ends the producer.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { includesEntry, judgeTarStream, restoreTarStream } from '../../sources/tar-stream-restore.js';
import { createExec, type RunExec } from '../../src/exec/index.js';
import type { ProcessSpec } from '../../src/exec/types.js';
import type { TarEntry } from '../../src/util/tar/entry.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { writeRandomFiles } from '../helpers/repos.js';

describe('restoreTarStream (local processes)', () => {
  let ws: Workspace;
  let exec: RunExec;
  beforeEach(async () => {
    ws = await makeWorkspace();
    exec = createExec({ hosts: {}, stateDir: ws.file('state'), cgroups: false });
    await writeRandomFiles(ws.file('src/blobs'), 3, 200_000);
    await ws.write('src/notes/a.txt', 'a\n');
  });
  afterEach(async () => {
    await exec.close();
    await ws.cleanup();
  });
  const sh = (script: string): ProcessSpec => ({ argv: ['sh', '-c', script], env: { PATH: process.env.PATH ?? '' }, timeoutMs: 30_000, killGraceMs: 1_000, label: 'tar' });
  const into = async (name: string): Promise<string> => {
    const dir = ws.file(name);
    await mkdir(dir);
    return dir;
  };
  const explain = (): string => 'the tool failed';

  it('writes the whole tree a tool prints as a tar, and only the include paths when asked', async () => {
    const dir = await into('all');
    const whole = await restoreTarStream(exec, undefined, sh(`tar -C ${ws.file('src')} -cf - .`), dir);
    expect(judgeTarStream('src', whole, explain)).toBeUndefined();
    expect((await readdir(dir)).sort()).toEqual(['blobs', 'notes']);
    expect(await readFile(path.join(dir, 'blobs/file-2.bin'))).toEqual(await readFile(ws.file('src/blobs/file-2.bin')));
    const some = await into('some');
    const only = await restoreTarStream(exec, undefined, sh(`tar -C ${ws.file('src')} -cf - .`), some, (entry) => includesEntry(['/notes'], entry));
    expect(judgeTarStream('src', only, explain)).toBeUndefined();
    expect(await readdir(some)).toEqual(['notes']);
  });

  it('fails a tool that exits non-zero, and a stream cut short although the tool exits 0', async () => {
    const failed = await restoreTarStream(exec, undefined, sh(`tar -C ${ws.file('src')} -cf - .; exit 3`), await into('a'));
    expect(judgeTarStream('src', failed, explain)?.message).toBe('the tool failed');
    const cut = await restoreTarStream(exec, undefined, sh(`tar -C ${ws.file('src')} -cf - . | head -c 300000`), await into('b'));
    expect(judgeTarStream('src', cut, explain)?.message).toMatch(/^the tar stream of src is incomplete or damaged although the tool exited 0: .*truncated/);
  });

  it('a reader that stops at garbage ends a producer that would never stop by itself', async () => {
    const started = Date.now();
    const garbage = await restoreTarStream(exec, undefined, sh('exec yes rearguard'), await into('c'));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(garbage.result.timedOut).toBe(false);
    expect(garbage.read.error).toMatch(/checksum|header|not a tar/i);
    expect(judgeTarStream('src', garbage, explain)?.message).toMatch(/^the tool failed; the tar stream stopped after 0 entries \(not a tar archive/);
  });

  it('includesEntry: a path selects itself and everything below it, with or without a leading slash', () => {
    const entry = (name: string) => ({ name: Buffer.from(name) }) as TarEntry;
    expect(includesEntry([], entry('x/y'))).toBe(true);
    expect(includesEntry(['/x'], entry('x/y'))).toBe(true);
    expect(includesEntry(['x/'], entry('x/'))).toBe(true);
    expect(includesEntry(['/x'], entry('xy/z'))).toBe(false);
  });
});

import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readArchiveFile } from '../../../../src/util/tar/read-archive.js';
import { createRestoreWriter, type RestoreWriterOptions } from '../../../../src/util/tar/restore-writer.js';
import { END, member, paxMember } from './build-tar.js';

let dir: string;
let out: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-tar-writer-'));
  out = path.join(dir, 'out');
  await mkdir(out);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function restore(bytes: Buffer, select?: RestoreWriterOptions['select']) {
  const file = path.join(dir, 'a.tar');
  await writeFile(file, bytes);
  const writer = createRestoreWriter({ dir: out, ...(select ? { select } : {}) });
  const result = await readArchiveFile(file, { onEntry: (entry, content) => writer.write(entry, content) });
  return { result, summary: await writer.finish() };
}

describe('createRestoreWriter', () => {
  it('refuses what today\'s entry policy refuses, naming each entry', async () => {
    const { result, summary } = await restore(
      Buffer.concat([
        member({ name: '../evil', data: 'x' }),
        member({ name: '/etc/evil', data: 'x' }),
        member({ name: 'up', type: '2', linkName: '../../outside' }),
        member({ name: 'abs', type: '2', linkName: '/etc/passwd' }),
        member({ name: 'dev', type: '3' }),
        member({ name: 'fifo', type: '6' }),
        member({ name: 'hard', type: '1', linkName: 'nothing-there' }),
        END,
      ]),
    );
    expect(result.error).toBeUndefined();
    expect(summary.problems.map((problem) => `${problem.name}: ${problem.reason}`)).toEqual([
      '../evil: path climbs out with ".."',
      '/etc/evil: absolute path',
      'up: symbolic link to ../../outside, which points outside the restored tree',
      'abs: symbolic link to the absolute path /etc/passwd',
      'dev: device file (CharacterDevice)',
      'fifo: FIFO (named pipe)',
      'hard: hard link to nothing-there, which is not a file stored before it in the archive',
    ]);
    expect(summary.written).toBe(0);
  });

  it('reports two entries landing on one path instead of merging them, and keeps the first', async () => {
    const { summary } = await restore(Buffer.concat([member({ name: 'a', data: 'first' }), member({ name: './a', data: 'second' }), END]));
    expect(summary.problems).toEqual([{ name: './a', kind: 'collision', reason: 'lands on the same path as entry 1; restoring both would lose one' }]);
    expect(await readFile(path.join(out, 'a'), 'utf8')).toBe('first');
  });

  it('restores names as their original bytes: Latin-1 and UTF-8 spellings stay two files', async () => {
    const latin = Buffer.from('caf\xe9', 'latin1');
    const { summary } = await restore(Buffer.concat([member({ name: latin, data: 'latin' }), member({ name: 'café', data: 'utf8' }), END]));
    expect(summary.problems).toEqual([]);
    expect(await readFile(Buffer.concat([Buffer.from(`${out}/`), latin]), 'utf8')).toBe('latin');
    expect(await readFile(path.join(out, 'café'), 'utf8')).toBe('utf8');
  });

  it('writes a pax sparse file with its holes left as holes and its full size', async () => {
    const sparse = Buffer.concat([
      paxMember({ 'GNU.sparse.size': String(8 * 1024 * 1024), 'GNU.sparse.map': `${4 * 1024 * 1024},4`, 'GNU.sparse.numblocks': '1' }),
      member({ name: 'disk.img', data: 'DATA' }),
      END,
    ]);
    const { result, summary } = await restore(sparse);
    expect(result.error).toBeUndefined();
    expect(summary.problems).toEqual([]);
    const info = await stat(path.join(out, 'disk.img'));
    expect(info.size).toBe(8 * 1024 * 1024);
    expect(info.blocks * 512).toBeLessThan(64 * 1024);
    const content = await readFile(path.join(out, 'disk.img'));
    expect(content.subarray(4 * 1024 * 1024, 4 * 1024 * 1024 + 4).toString()).toBe('DATA');
    expect(content.subarray(0, 4 * 1024 * 1024).every((byte) => byte === 0)).toBe(true);
  });

  it('writes only the entries the caller selects, with links and folders still checked', async () => {
    const { summary } = await restore(
      Buffer.concat([member({ name: 'db/app.sqlite', data: 'sqlite' }), member({ name: 'logs/big.log', data: 'log' }), member({ name: 'latest', type: '2', linkName: 'db/app.sqlite' }), END]),
      (entry) => entry.displayName.startsWith('db/') || entry.type === 'symlink',
    );
    expect(summary.problems).toEqual([]);
    expect(await readFile(path.join(out, 'db/app.sqlite'), 'utf8')).toBe('sqlite');
    await expect(lstat(path.join(out, 'logs'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readlink(path.join(out, 'latest'))).toBe('db/app.sqlite');
  });

  it('removes a link that a later link made point outside', async () => {
    const { summary } = await restore(Buffer.concat([member({ name: 'l2', type: '2', linkName: 'l3/../x' }), member({ name: 'l3', type: '2', linkName: '.' }), END]));
    expect(summary.problems).toEqual([{ name: 'l2', kind: 'refused', reason: 'symbolic link to l3/../x, which points outside the restored tree' }]);
    await expect(lstat(path.join(out, 'l2'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

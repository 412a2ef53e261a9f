import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { displayName } from '../../../../src/util/tar/display-name.js';
import { readArchiveFile } from '../../../../src/util/tar/read-archive.js';
import { detectCompression } from '../../../../src/util/tar/compression.js';
import { requireTool } from '../../../helpers/require-tool.js';
import { END, member, paxMember } from './build-tar.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-tar-reader-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(bytes: Buffer, name = 'a.tar') {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  const listed: { name: string; content: string; size: number }[] = [];
  const result = await readArchiveFile(file, {
    onEntry: async (entry, content) => {
      const parts: Buffer[] = [];
      for await (const chunk of content) parts.push(Buffer.from(chunk));
      listed.push({ name: entry.displayName, content: Buffer.concat(parts).toString('latin1'), size: entry.size });
    },
  });
  return { result, listed, file };
}

const hello = member({ name: 'a.txt', data: 'hello\n' });

describe('readArchive', () => {
  it('reads a complete archive and hands out each file content once', async () => {
    const { result, listed } = await read(Buffer.concat([hello, member({ name: 'dir/', type: '5' }), END]));
    expect(result.error).toBeUndefined();
    expect(listed).toEqual([
      { name: 'a.txt', content: 'hello\n', size: 6 },
      { name: 'dir/', content: '', size: 0 },
    ]);
  });

  it('requires the end-of-archive marker and says where the archive ends, also inside an intact gzip stream', async () => {
    const plain = await read(Buffer.concat([hello]));
    expect(plain.result.error).toBe('the archive ends without its end-of-archive marker after 1 entry, at byte 1024: it was cut short (truncated)');
    const gz = await read(gzipSync(Buffer.concat([hello, hello])), 'b.tar.gz');
    expect(gz.result.compression).toBe('gzip');
    expect(gz.result.error).toMatch(/without its end-of-archive marker after 2 entries, at byte 2048/);
  });

  it('reads a lone zero block at the very end as GNU tar does, but fails when entries follow it', async () => {
    const lone = await read(Buffer.concat([hello, Buffer.alloc(512)]));
    expect(lone.result.error).toBeUndefined();
    expect(lone.result.warnings[0]).toMatch(/lone zero block at byte 1024/);
    const more = await read(Buffer.concat([hello, Buffer.alloc(512), hello, END]));
    expect(more.result.error).toMatch(/single zero block at byte 1024 is followed by more data.*would be lost/);
  });

  it('reads an old-style hard link whose size field is not zero as GNU tar does (no data after it)', async () => {
    const { result, listed } = await read(Buffer.concat([hello, Buffer.from(member({ name: 'b', type: '1', size: 6, linkName: 'a.txt' })), hello, END]));
    expect(result.error).toBeUndefined();
    expect(listed.map((entry) => entry.name)).toEqual(['a.txt', 'b', 'a.txt']);
  });

  it('names the entry for an empty name and for a malformed pax mtime', async () => {
    const empty = await read(Buffer.concat([member({ name: '', data: 'x' }), END]));
    expect(empty.result.error).toMatch(/^entry 1 \(""\) has an empty name/);
    const badTime = await read(Buffer.concat([paxMember({ mtime: 'yesterday' }), hello, END]));
    expect(badTime.result.error).toMatch(/entry 1 \("a.txt"\) has a malformed modification time in its pax header \("mtime=yesterday"/);
  });

  it('keeps names as bytes and shows non-UTF-8 bytes escaped', async () => {
    const { listed } = await read(Buffer.concat([member({ name: Buffer.from('caf\xe9', 'latin1'), data: '1' }), member({ name: 'café', data: '2' }), END]));
    expect(listed.map((entry) => entry.name)).toEqual(['caf\\xE9', 'café']);
    expect(displayName(Buffer.from('a\\b'))).toBe('a\\\\b');
  });

  it('fails on a bad header checksum and on data that is not tar at all', async () => {
    const broken = Buffer.concat([hello, hello, END]);
    broken[1] = 0x41;
    expect((await read(broken)).result.error).toMatch(/^not a tar archive: the first block is not a tar header \(its checksum is \d+ but its bytes add up to \d+\)$/);
    const corrupt = Buffer.concat([hello, hello, END]);
    corrupt[1024 + 5] = 0x41;
    expect((await read(corrupt)).result.error).toMatch(/^the header at byte 1024 \(after 1 entry\) is corrupted: its checksum is \d+ but its bytes add up to \d+$/);
  });

  it('feeds every raw byte to the tap, so the archive hash comes from the same read', async () => {
    const bytes = gzipSync(Buffer.concat([hello, END]));
    const file = path.join(dir, 'c.tgz');
    await writeFile(file, bytes);
    const hash = createHash('sha256');
    const result = await readArchiveFile(file, { onRawChunk: (chunk) => hash.update(chunk) });
    expect(result.rawComplete).toBe(true);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('reports a truncated zstd stream as damaged, naming zstd', async () => {
    if (!requireTool('zstd', 'apt-get install zstd')) return;
    const tar = path.join(dir, 'd.tar');
    await writeFile(tar, Buffer.concat([hello, member({ name: 'big', data: Buffer.alloc(300_000, 7) }), END]));
    await execa('zstd', ['-q', '-f', tar, '-o', `${tar}.zst`]);
    const { readFile } = await import('node:fs/promises');
    const zst = await readFile(`${tar}.zst`);
    const { result } = await read(zst.subarray(0, zst.length - 10), 'e.tar.zst');
    expect(result.compression).toBe('zstd');
    expect(result.error).toMatch(/^the zstd stream is truncated or corrupted: zstd exited with status 1/);
  });

  it('stops at once when aborted', async () => {
    const file = path.join(dir, 'f.tar');
    await writeFile(file, Buffer.concat([hello, END]));
    const controller = new AbortController();
    controller.abort();
    expect((await readArchiveFile(file, { signal: controller.signal })).error).toBe('stopped: the run was aborted');
  });

  it('tells compression by magic bytes only', () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(detectCompression(Buffer.from('BZh9'))).toBe('bzip2');
    expect(detectCompression(Buffer.from('ustar'))).toBe('none');
  });
});

// The strict tar reader and restore writer against GNU tar: every format and compression, then every truncation and header corruption.
import { link, mkdtemp, mkdir, open, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestoreWriter, type RestoreSummary } from '../../src/util/tar/restore-writer.js';
import { readArchiveFile, type ReadArchiveResult } from '../../src/util/tar/read-archive.js';
import { buildSourceTree, createWithGnuTar, describeTree, extractWithGnuTar, listWithGnuTar, type GnuFormat, type TestCompression } from '../helpers/gnu-tar.js';
import { requireTool } from '../helpers/require-tool.js';
import { headerChecksums } from '../../src/util/tar/header-fields.js';

const TOOLS: [string, string][] = [
  ['tar', 'apt-get install tar'],
  ['gzip', 'apt-get install gzip'],
  ['zstd', 'apt-get install zstd'],
  ['xz', 'apt-get install xz-utils'],
  ['bzip2', 'apt-get install bzip2'],
];
const available = TOOLS.every(([tool, install]) => requireTool(tool, install));

const CASES: { format: GnuFormat; sparseVersion?: string }[] = [
  { format: 'v7' },
  { format: 'ustar' },
  { format: 'oldgnu' },
  { format: 'gnu' },
  { format: 'posix', sparseVersion: '0.0' },
  { format: 'posix', sparseVersion: '0.1' },
  { format: 'posix', sparseVersion: '1.0' },
];
const COMPRESSIONS: TestCompression[] = ['none', 'gzip', 'zstd', 'xz', 'bzip2'];

let work: string;
const sources: Record<'short' | 'ustar' | 'long', string> = { short: '', ustar: '', long: '' };

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'rearguard-tar-diff-'));
  for (const kind of ['short', 'ustar', 'long'] as const) {
    sources[kind] = path.join(work, `src-${kind}`);
    await mkdir(sources[kind]);
    await buildSourceTree(sources[kind], { long: kind === 'long', ustarSplit: kind === 'ustar' });
  }
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Reads and restores `archive` with rearguard's reader and writer into `dir`. */
async function restoreOurs(archive: string, dir: string): Promise<{ result: ReadArchiveResult; summary: RestoreSummary; names: Buffer[] }> {
  const writer = createRestoreWriter({ dir });
  const names: Buffer[] = [];
  const result = await readArchiveFile(archive, {
    onEntry: async (entry, content) => {
      names.push(entry.name);
      await writer.write(entry, content);
    },
  });
  return { result, summary: await writer.finish(), names };
}

let counter = 0;
async function freshDir(): Promise<string> {
  counter += 1;
  const dir = path.join(work, `out-${counter}`);
  await mkdir(dir);
  return dir;
}

describe.runIf(available)('archives written by GNU tar', () => {
  for (const { format, sparseVersion } of CASES) {
    for (const compression of COMPRESSIONS) {
      it(`--format=${format}${sparseVersion ? ` --sparse-version=${sparseVersion}` : ''}, ${compression}: same entries and same restored tree`, async () => {
        const source = format === 'v7' ? sources.short : format === 'ustar' ? sources.ustar : sources.long;
        const archive = path.join(work, `a-${format}-${sparseVersion ?? ''}-${compression}.tar`);
        await createWithGnuTar(source, archive, format, compression, sparseVersion);

        const ours = await freshDir();
        const { result, summary, names } = await restoreOurs(archive, ours);
        expect(result.error).toBeUndefined();
        expect(result.compression).toBe(compression);
        expect(result.rawComplete).toBe(true);
        expect(summary.problems).toEqual([]);
        expect(names.map((name) => name.toString('hex'))).toEqual((await listWithGnuTar(archive)).map((name) => name.toString('hex')));

        const theirs = await freshDir();
        expect((await extractWithGnuTar(archive, theirs)).exitCode).toBe(0);
        const ourTree = await describeTree(ours);
        expect(ourTree).toEqual(await describeTree(theirs));
        const disk = ourTree.find((record) => record.path === Buffer.from('disk.img').toString('hex'));
        expect(disk?.size).toBe(3 * 1024 * 1024 + 4);
        // Formats that store holes must give them back as holes.
        if (format !== 'v7' && format !== 'ustar') expect(disk?.holes).toBe(true);
      });
    }
  }
});

/** A small tree for the hostile variants: a long name, both link kinds, a sparse file and a Latin-1 name. */
async function buildSmallTree(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'd'));
  await writeFile(path.join(dir, 'd', 'a.txt'), 'alpha\n');
  await writeFile(path.join(dir, `${'n'.repeat(110)}.txt`), 'long\n');
  await symlink('d/a.txt', path.join(dir, 'sym'));
  await link(path.join(dir, 'd', 'a.txt'), path.join(dir, 'hard'));
  await writeFile(Buffer.from(path.join(dir, 'caf\xe9'), 'latin1'), 'x');
  const handle = await open(path.join(dir, 'holes.img'), 'w');
  await handle.write(Buffer.from('data'), 0, 4, 40_000);
  await handle.close();
}

/** The property every hostile archive must keep: rearguard fails with a reason, or restores exactly GNU tar's tree. */
async function judge(archive: string): Promise<'failed' | 'same'> {
  const ours = await freshDir();
  let failure: string | undefined;
  try {
    const { result, summary } = await restoreOurs(archive, ours);
    failure = result.error ?? summary.problems.map((problem) => `${problem.name}: ${problem.reason}`)[0];
  } catch (error) {
    failure = (error as Error).message;
  }
  if (process.env.TAR_DIFF_DEBUG) console.log(archive, failure);
  if (failure !== undefined) {
    expect(failure.length).toBeGreaterThan(10);
    return 'failed';
  }
  const theirs = await freshDir();
  const gnu = await extractWithGnuTar(archive, theirs);
  expect({ archive, gnuExit: gnu.exitCode, stderr: gnu.stderr }).toEqual({ archive, gnuExit: 0, stderr: gnu.stderr });
  expect({ archive, tree: await describeTree(ours) }).toEqual({ archive, tree: await describeTree(theirs) });
  return 'same';
}

const FIELDS: [string, number, number][] = [
  ['name', 0, 100], ['mode', 100, 8], ['uid', 108, 8], ['gid', 116, 8], ['size', 124, 12], ['mtime', 136, 12],
  ['typeflag', 156, 1], ['linkname', 157, 100], ['magic', 257, 6], ['version', 263, 2], ['uname', 265, 32],
  ['gname', 297, 32], ['devmajor', 329, 8], ['devminor', 337, 8], ['prefix or sparse', 345, 155], ['sparse tail', 482, 13],
];

function setChecksum(block: Buffer): void {
  block.write(`${headerChecksums(block).unsigned.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
}

describe.runIf(available)('hostile variants of a small archive', () => {
  for (const format of ['gnu', 'posix'] as const) {
    it(`--format=${format}: cut at every 512-byte boundary, never ok with a different tree`, async () => {
      const source = await freshDir();
      await buildSmallTree(source);
      const archive = path.join(work, `small-${format}.tar`);
      await createWithGnuTar(source, archive, format, 'none', format === 'posix' ? '1.0' : undefined);
      const bytes = await readFile(archive);
      expect(await judge(archive)).toBe('same');
      const { result } = await restoreOurs(archive, await freshDir());
      let failed = 0;
      for (let cut = 0; cut < bytes.length; cut += 512) {
        const cutFile = path.join(work, `cut-${format}-${cut}.tar`);
        await writeFile(cutFile, bytes.subarray(0, cut));
        const verdict = await judge(cutFile);
        // Everything before the second zero block of the end marker is missing data: it must fail.
        if (cut < result.tarBytes - 512) expect({ cut, verdict }).toEqual({ cut, verdict: 'failed' });
        if (verdict === 'failed') failed += 1;
        // The same cut inside an intact gzip stream, as \`tar c | gzip\` leaves it when tar dies.
        if (cut % 2048 === 0 && cut < result.tarBytes - 512) {
          const gz = path.join(work, `cut-${format}-${cut}.tar.gz`);
          const { gzipSync } = await import('node:zlib');
          await writeFile(gz, gzipSync(bytes.subarray(0, cut)));
          const { result: inGzip } = await restoreOurs(gz, await freshDir());
          expect(inGzip.error).toMatch(cut === 0 ? /empty|ends|not a tar/ : /truncated|cut short/);
        }
      }
      expect(failed).toBeGreaterThan(5);
    });

    it(`--format=${format}: every header field corrupted, never ok with a different tree`, async () => {
      const source = await freshDir();
      await buildSmallTree(source);
      const archive = path.join(work, `small-fields-${format}.tar`);
      await createWithGnuTar(source, archive, format, 'none', format === 'posix' ? '1.0' : undefined);
      const bytes = await readFile(archive);
      const headers: number[] = [];
      for (let at = 0; at + 512 <= bytes.length; at += 512) {
        const block = bytes.subarray(at, at + 512);
        const stored = Number.parseInt(block.toString('latin1', 148, 156).replace(/[\0 ]/g, ''), 8);
        if (block.some((byte) => byte !== 0) && stored === headerChecksums(block).unsigned) headers.push(at);
      }
      expect(headers.length).toBeGreaterThan(6);
      const outcomes = { failed: 0, same: 0 };
      let variant = 0;
      for (const at of headers) {
        // A changed byte without a matching checksum is always caught.
        const unsummed = Buffer.from(bytes);
        unsummed[at + 1] = unsummed[at + 1]! ^ 0x01;
        const unsummedFile = path.join(work, `field-${format}-${(variant += 1)}.tar`);
        await writeFile(unsummedFile, unsummed);
        expect(await judge(unsummedFile)).toBe('failed');
        for (const [field, start, length] of FIELDS) {
          const mutations = [(b: Buffer) => (b[start] = b[start] === 0x37 ? 0x31 : 0x37), (b: Buffer) => (b[start] = 0), (b: Buffer) => (b[start + length - 1] = 0x78)];
          // Owner names and device numbers change nothing a restore writes: one variant each keeps the run short.
          for (const [which, mutate] of mutations.slice(0, /name$|dev/.test(field) && field !== 'name' ? 1 : 3).entries()) {
            const changed = Buffer.from(bytes);
            const block = changed.subarray(at, at + 512);
            mutate(block);
            setChecksum(block);
            if (changed.equals(bytes)) continue;
            const file = path.join(work, `field-${format}-${(variant += 1)}-at${at}-${field.replace(/ /g, '_')}-${which}.tar`);
            await writeFile(file, changed);
            outcomes[await judge(file)] += 1;
          }
        }
      }
      expect(outcomes.failed).toBeGreaterThan(20);
    });
  }
});

// The strict tar reader and restore writer against GNU tar: every format and compression, then every truncation and header corruption.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestoreWriter, type RestoreSummary } from '../../src/util/tar/restore-writer.js';
import { readArchiveFile, type ReadArchiveResult } from '../../src/util/tar/read-archive.js';
import { buildSourceTree, createWithGnuTar, describeTree, extractWithGnuTar, listWithGnuTar, type GnuFormat, type TestCompression } from '../helpers/gnu-tar.js';
import { requireTool } from '../helpers/require-tool.js';

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

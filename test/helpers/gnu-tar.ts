// GNU tar as the reference: builds source trees, writes archives in each format and compression, and describes extracted trees.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, readlink, symlink, truncate, writeFile } from 'node:fs/promises';
import { execa } from 'execa';

/** The archive formats GNU tar writes. */
export type GnuFormat = 'v7' | 'oldgnu' | 'gnu' | 'ustar' | 'posix';
/** The compressions the suite covers. */
export type TestCompression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

const COMPRESS_FLAG: Record<TestCompression, string[]> = { none: [], gzip: ['--gzip'], zstd: ['--zstd'], xz: ['--xz'], bzip2: ['--bzip2'] };

const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const join = (...parts: Buffer[]): Buffer => Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [part] : [b('/'), part])));

/**
 * Fills `dir` with what backups hold: files with several modes, an empty file and folder, symbolic and hard
 * links, a sparse file with holes at both ends, a name in Latin-1 bytes, and (with `long`) names and link
 * targets past the 100-byte header fields.
 */
export async function buildSourceTree(dir: string, options: { long: boolean; ustarSplit?: boolean }): Promise<void> {
  const root = b(dir);
  await mkdir(join(root, b('docs/empty-folder')), { recursive: true });
  await writeFile(join(root, b('docs/readme.txt')), 'hello from the archive\n');
  await writeFile(join(root, b('docs/empty.txt')), '');
  await writeFile(join(root, b('run.sh')), '#!/bin/sh\necho ok\n');
  await chmod(join(root, b('run.sh')), 0o755);
  await writeFile(join(root, b('docs/private.txt')), 'only the owner and group\n');
  await chmod(join(root, b('docs/private.txt')), 0o640);
  await writeFile(join(root, b('caf\xe9-na\xefve.txt')), 'latin-1 name\n');
  await symlink('docs/readme.txt', join(root, b('readme-link')));
  await link(join(root, b('docs/readme.txt')), join(root, b('readme-hard')));
  // 1 MiB hole, 4 KiB of data, another hole to 3 MiB, a short tail of data.
  const sparse = join(root, b('disk.img'));
  const handle = await open(sparse, 'w');
  await handle.write(Buffer.alloc(4096, 0x61), 0, 4096, 1024 * 1024);
  await handle.write(b('tail'), 0, 4, 3 * 1024 * 1024);
  await handle.close();
  await writeFile(join(root, b('ends-in-hole.img')), 'head');
  await truncate(join(root, b('ends-in-hole.img')), 2 * 1024 * 1024);
  if (options.ustarSplit) {
    const deep = b(`${'p'.repeat(60)}/${'q'.repeat(60)}`);
    await mkdir(join(root, deep), { recursive: true });
    await writeFile(join(root, deep, b(`${'f'.repeat(90)}.txt`)), 'split between prefix and name\n');
  }
  if (options.long) {
    const deep = b(`${'a'.repeat(80)}/${'b'.repeat(80)}/${'c'.repeat(80)}`);
    await mkdir(join(root, deep), { recursive: true });
    const longFile = join(root, deep, b(`${'d'.repeat(120)}.txt`));
    await writeFile(longFile, 'a long name\n');
    await symlink(`${deep.toString('latin1')}/${'d'.repeat(120)}.txt`, join(root, b('long-target-link')));
    await link(longFile, join(root, b('long-target-hard')));
  }
}

/** Writes `srcDir` (its contents, as ".") to `archive` with GNU tar. */
export async function createWithGnuTar(srcDir: string, archive: string, format: GnuFormat, compression: TestCompression, sparseVersion?: string): Promise<void> {
  // v7 and ustar cannot store holes, and GNU tar refuses -S with them.
  const sparse = format === 'v7' || format === 'ustar' ? [] : ['-S'];
  const args = [`--format=${format}`, ...sparse, ...(sparseVersion ? [`--sparse-version=${sparseVersion}`] : []), ...COMPRESS_FLAG[compression]];
  await execa('tar', [...args, '-cf', archive, '-C', srcDir, '.'], { env: { LC_ALL: 'C' } });
}

/** Extracts with GNU tar (permissions kept); returns its exit code and messages. */
export async function extractWithGnuTar(archive: string, dir: string): Promise<{ exitCode: number; stderr: string }> {
  const result = await execa('tar', ['-xpf', archive, '-C', dir], { reject: false, env: { LC_ALL: 'C' } });
  return { exitCode: result.exitCode ?? -1, stderr: result.stderr };
}

/** GNU tar's listing of the member names, as raw bytes in archive order. */
export async function listWithGnuTar(archive: string): Promise<Buffer[]> {
  const result = await execa('tar', ['-tf', archive, '--quoting-style=literal'], { encoding: 'buffer', stripFinalNewline: false, env: { LC_ALL: 'C' } });
  const out = Buffer.from(result.stdout);
  const names: Buffer[] = [];
  let start = 0;
  for (let i = out.indexOf(0x0a); i !== -1; i = out.indexOf(0x0a, start)) {
    names.push(out.subarray(start, i));
    start = i + 1;
  }
  return names;
}

/** One restored path: what a user would compare by hand. Names are hex of the raw bytes. */
export interface TreeRecord {
  path: string;
  type: 'file' | 'directory' | 'symlink';
  size?: number;
  sha256?: string;
  /** Permission bits, normalised to what a restore may add (owner may read and write, and enter folders). */
  mode?: number;
  linkTarget?: string;
  /** For files: other names of the same inode, so hard links are compared too. */
  links?: number;
  /** True when the file occupies less disk than its size (it has holes). */
  holes?: boolean;
}

/** Describes every path under `dir`, sorted, with names as raw bytes (hex). */
export async function describeTree(dir: string): Promise<TreeRecord[]> {
  const records: TreeRecord[] = [];
  async function walk(path: Buffer, rel: Buffer[]): Promise<void> {
    const names = (await readdir(path, { encoding: 'buffer' })) as Buffer[];
    for (const name of names) {
      const full = join(path, name);
      const relPath = [...rel, name];
      const key = Buffer.concat(relPath.flatMap((part, i) => (i === 0 ? [part] : [b('/'), part]))).toString('hex');
      const stat = await lstat(full);
      if (stat.isSymbolicLink()) records.push({ path: key, type: 'symlink', linkTarget: Buffer.from(await readlink(full, { encoding: 'buffer' })).toString('hex') });
      else if (stat.isDirectory()) {
        records.push({ path: key, type: 'directory', mode: (stat.mode & 0o777) | 0o700 });
        await walk(full, relPath);
      } else {
        const sha256 = createHash('sha256').update(readFileSync(full)).digest('hex');
        records.push({ path: key, type: 'file', size: stat.size, sha256, mode: (stat.mode & 0o777) | 0o600, links: stat.nlink, holes: stat.blocks * 512 < stat.size });
      }
    }
  }
  await walk(b(dir), []);
  return records.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

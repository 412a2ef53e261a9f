// findNewestFile gives the answer of the glob-then-stat-everything search it replaces, on the same trees.
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, realpath, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import picomatch from 'picomatch';
import { findNewestFile, isPlainPath, type NewestFileCounters } from '../../../src/util/newest-file.js';

/** The search as the file source does it today: tinyglobby lists every match, then each is stat-ed. */
async function findNewestToday(pattern: string): Promise<{ file: string; bytes: number; mtimeMs: number } | undefined> {
  const matches = await glob(pattern, { absolute: true, onlyFiles: true, dot: true, expandDirectories: false });
  let newest: { file: string; bytes: number; mtimeMs: number } | undefined;
  for (const file of matches) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (!newest || info.mtimeMs > newest.mtimeMs) newest = { file, bytes: info.size, mtimeMs: info.mtimeMs };
  }
  return newest;
}

let dir: string;
let clock: number;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-newest-'));
  clock = Date.UTC(2024, 0, 1) / 1000;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a file with its own mtime, one second after the previous one unless given. */
async function put(rel: string, options: { at?: number; body?: string } = {}): Promise<string> {
  const file = path.join(dir, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, options.body ?? rel);
  clock += 1;
  const at = options.at ?? clock;
  await utimes(file, at, at);
  return file;
}

async function expectSameAnswer(pattern: string): Promise<void> {
  const today = await findNewestToday(pattern);
  const fast = await findNewestFile(pattern);
  expect(fast).toEqual(today);
}

describe('findNewestFile answers as the glob-then-stat search does', () => {
  it('in a flat folder with other files beside the matches, stat-ing only the matches', async () => {
    const order = Array.from({ length: 300 }, (_, i) => i).sort((a, b) => ((a * 7919) % 300) - ((b * 7919) % 300));
    for (const i of order) await put(`app-${String(i).padStart(4, '0')}.sql.gz`);
    for (let i = 0; i < 200; i += 1) await put(`other-${i}.log`);
    await put('app-newest-but-not-gz.sql', { at: clock + 1000 });
    const pattern = path.join(dir, 'app-*.sql.gz');
    await expectSameAnswer(pattern);
    const counters: NewestFileCounters = { directories: 0, entries: 0, stats: 0 };
    expect((await findNewestFile(pattern, { counters }))?.file).toBe(path.join(dir, `app-${String(order.at(-1)).padStart(4, '0')}.sql.gz`));
    expect(counters).toEqual({ directories: 1, entries: 501, stats: 300 });
  });

  it.each([
    ['**/*.gz'],
    ['**'],
    ['*/db-*.gz'],
    ['{a,b}/*.gz'],
    ['@(a|c)/**/*.gz'],
    ['a/**/db-[0-9]*.gz'],
    ['**/.hidden/*'],
    ['a/deep/er/db-5.gz'],
    ['nothing-*.gz'],
    ['missing-folder/**/*.gz'],
  ])('in a nested tree with dot files, for %s', async (glob) => {
    await put('a/db-1.gz');
    await put('b/db-2.gz');
    await put('c/x/db-3.gz');
    await put('a/.hidden/db-4.gz');
    await put('a/deep/er/db-5.gz');
    await put('.dot/db-6.gz');
    await put('b/db-7.txt');
    await put('c/db-8.gz', { at: clock - 100 });
    await expectSameAnswer(path.join(dir, glob));
  });

  it('for a relative pattern, taken from cwd', async () => {
    await put('x/one.gz');
    const newest = await put('x/two.gz');
    const found = await findNewestFile('x/*.gz', { cwd: dir });
    expect(found?.file).toBe(newest);
  });

  it('prunes folders that cannot hold a match: they are never opened', async () => {
    for (let i = 0; i < 50; i += 1) await put(`noise/n${i}/deep/file-${i}.gz`);
    await put('keep/app-1.gz');
    const counters: NewestFileCounters = { directories: 0, entries: 0, stats: 0 };
    await findNewestFile(path.join(dir, 'keep/*.gz'), { counters });
    expect(counters.directories).toBe(1);
    const two: NewestFileCounters = { directories: 0, entries: 0, stats: 0 };
    await findNewestFile(path.join(dir, '*/app-*.gz'), { counters: two });
    expect(two.directories).toBe(3); // the root, keep/ and noise/, but nothing below noise/n*
    expect(two.stats).toBe(1);
  });

  it('ignores FIFOs and folders whose names match, and a dangling link', async () => {
    const newest = await put('arch/app-1.gz');
    await execa('mkfifo', [path.join(dir, 'arch/app-2.gz')]);
    await mkdir(path.join(dir, 'arch/app-3.gz'));
    await symlink(path.join(dir, 'gone'), path.join(dir, 'arch/app-4.gz'));
    await expectSameAnswer(path.join(dir, 'arch/app-*.gz'));
    expect((await findNewestFile(path.join(dir, 'arch/app-*.gz')))?.file).toBe(newest);
  });

  it('follows links to files (named by the link) and to folders, as before', async () => {
    await put('arch/app-1.gz');
    const outside = await put('elsewhere/real-2.gz');
    await symlink(outside, path.join(dir, 'arch/app-2.gz'));
    await expectSameAnswer(path.join(dir, 'arch/app-*.gz'));
    expect((await findNewestFile(path.join(dir, 'arch/app-*.gz')))?.file).toBe(path.join(dir, 'arch/app-2.gz'));
    await put('other/db-9.gz');
    await symlink(path.join(dir, 'other'), path.join(dir, 'arch/linked'));
    await expectSameAnswer(path.join(dir, 'arch/*/db-*.gz'));
  });

  it('ends on a symbolic link loop and finds the same file as before', async () => {
    await put('tree/a/db-1.gz');
    await put('tree/b/db-2.gz');
    await symlink(path.join(dir, 'tree'), path.join(dir, 'tree/a/up'));
    await symlink(path.join(dir, 'tree/a'), path.join(dir, 'tree/b/to-a'));
    await symlink(path.join(dir, 'tree/b'), path.join(dir, 'tree/a/to-b'));
    const pattern = path.join(dir, 'tree/**/*.gz');
    const today = await findNewestToday(pattern);
    const fast = await findNewestFile(pattern);
    expect(fast?.file).toBe(path.join(dir, 'tree/b/db-2.gz'));
    expect(await realpath(fast!.file)).toBe(await realpath(today!.file));
    expect(fast?.mtimeMs).toBe(today?.mtimeMs);
  });

  it('on equal mtimes picks one of the tied files, always the same: the greatest name', async () => {
    const at = clock + 500;
    for (const name of ['app-2024-01-02.gz', 'app-2024-01-03.gz', 'app-2024-01-01.gz']) await put(`t/${name}`, { at });
    await put('t/app-2023-12-31.gz', { at: at - 10 });
    const pattern = path.join(dir, 't/app-*.gz');
    const today = await findNewestToday(pattern);
    const fast = await findNewestFile(pattern);
    expect(fast?.mtimeMs).toBe(today?.mtimeMs);
    expect(fast?.file).toBe(path.join(dir, 't/app-2024-01-03.gz'));
  });

  it('skips an unreadable folder, as before', async () => {
    await put('u/open/db-1.gz');
    await put('u/locked/db-2.gz');
    const pattern = path.join(dir, 'u/*/db-*.gz');
    await chmod(dir, 0o755);
    await chmod(path.join(dir, 'u/locked'), 0o000);
    // root reads any folder; the search runs as an ordinary user (effective uid only) to see the refusal.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    try {
      const today = await findNewestToday(pattern);
      const fast = await findNewestFile(pattern);
      expect(fast).toEqual(today);
      expect(fast?.file).toBe(path.join(dir, 'u/open/db-1.gz'));
    } finally {
      if (asRoot) process.seteuid!(0);
      await chmod(path.join(dir, 'u/locked'), 0o755);
    }
  });

  it('stops when its signal is aborted', async () => {
    await put('s/a.gz');
    await expect(findNewestFile(path.join(dir, 's/*.gz'), { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });
});

describe('isPlainPath: a path taken as it is without loading picomatch', () => {
  it('says "plain" only where picomatch sees no glob and keeps the whole path as its base', () => {
    // Every printable ASCII character, the glob syntax included, a few beyond ASCII, and the separator, at random.
    const alphabet = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), 'é', '日', '/', '/', '.', '-'];
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let plain = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const length = 1 + Math.floor(next() * 24);
      const candidate = `/${Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')}`;
      if (!isPlainPath(candidate)) continue;
      plain += 1;
      const scan = picomatch.scan(candidate);
      expect({ candidate, isGlob: scan.isGlob, negated: scan.negated }).toEqual({ candidate, isGlob: false, negated: false });
      expect(candidate.replace(/\\/g, '')).toBe(candidate);
    }
    expect(plain).toBeGreaterThan(1000);
    for (const syntax of ['*', '?', '[a]', '{a,b}', '@(a)', '!(a)', '+(a)', '\\*', '!x']) expect(isPlainPath(`/srv/backups/${syntax}`)).toBe(false);
  });

  it('finds a plain path as the search through picomatch did', async () => {
    await put('p/app db (1).sqlite3');
    await put('p/plain-name_2.tar.gz');
    for (const name of ['p/plain-name_2.tar.gz', 'p/missing.gz']) {
      const pattern = path.join(dir, name);
      expect(isPlainPath(pattern)).toBe(true);
      expect(await findNewestFile(pattern)).toEqual(await findNewestToday(pattern));
    }
  });
});

// The rules over a restored tree: sqlite, gzip and json globs, and an inner sha256sum-format list.
import { createReadStream } from 'node:fs';
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import pLimit from 'p-limit';
import { onAbort } from '../../src/util/abort-hub.js';
import { sharedHashPool } from '../../src/util/hash-pool.js';
import { checkSqliteIntegrity } from '../../src/util/sqlite-integrity.js';
import { parseSha256Sums } from './sha256-list.js';
import { splitEntryName } from '../../src/util/tar/restore-policy.js';

/** Splits an in-archive path into segments; undefined when it is absolute or climbs with "..". */
function entrySegments(name: string): string[] | undefined {
  if (name.includes('\0')) return undefined;
  const split = splitEntryName(Buffer.from(name, 'utf8'));
  return 'refused' in split ? undefined : split.segments.map((part) => part.toString('utf8'));
}

/** The outcome of one rule. */
export interface RuleOutcome {
  rule: 'sqlite' | 'gzip' | 'json' | 'sha256sums' | 'command';
  ok: boolean;
  /** One line for the check's message: "sqlite: 2 files ok". */
  summary: string;
  problems: string[];
}

/** What every rule may use. */
export interface RuleContext {
  tree: string;
  signal: AbortSignal;
  tempDir: string;
  timeoutMs: number;
}

/** Regular files of the tree matching `pattern` (symbolic links are not followed), relative paths, sorted. */
export async function matchRegularFiles(tree: string, pattern: string): Promise<string[]> {
  // Loaded here, with the first glob rule: tinyglobby loads picomatch as it starts, which most commands never need.
  const { glob } = await import('tinyglobby');
  const matches = await glob(pattern, { cwd: tree, onlyFiles: true, dot: true, followSymbolicLinks: false, expandDirectories: false });
  const regular: string[] = [];
  for (const relative of matches.sort()) {
    const info = await lstat(path.join(tree, relative)).catch(() => undefined);
    if (info?.isFile()) regular.push(relative);
  }
  return regular;
}

/** A glob rule that matched nothing in the restored tree: a failure, since nothing was proven. */
export function noFileMatches(rule: 'sqlite' | 'gzip' | 'json', pattern: string): RuleOutcome {
  return {
    rule,
    ok: false,
    summary: `${rule}: no file matches "${pattern}"`,
    problems: [`restore.${rule}: no file in the restored tree matches "${pattern}"; fix the glob, or the backup that should hold such files`],
  };
}

type FileVerdict = (file: string, relative: string, ctx: RuleContext) => Promise<string | undefined>;

async function runGlobRule(rule: 'sqlite' | 'gzip' | 'json', pattern: string, ctx: RuleContext, verdict: FileVerdict): Promise<RuleOutcome> {
  const files = await matchRegularFiles(ctx.tree, pattern);
  if (files.length === 0) return noFileMatches(rule, pattern);
  const problems: string[] = [];
  for (const relative of files) {
    if (ctx.signal.aborted) break;
    const problem = await verdict(path.join(ctx.tree, relative), relative, ctx);
    if (problem !== undefined) problems.push(`${rule}: ${problem}`);
  }
  const bad = problems.length;
  return {
    rule,
    ok: bad === 0 && !ctx.signal.aborted,
    summary: bad === 0 ? `${rule}: ${files.length} file(s) ok` : `${rule}: ${bad} of ${files.length} file(s) bad`,
    problems,
  };
}

const sqliteVerdict: FileVerdict = async (file, relative, ctx) => {
  const result = await checkSqliteIntegrity(file, { tempDir: ctx.tempDir, signal: ctx.signal, timeoutMs: ctx.timeoutMs, inScratch: true });
  return result.ok ? undefined : result.message.split(file).join(relative);
};

const gzipVerdict: FileVerdict = async (file, relative, ctx) => {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), sink, { signal: ctx.signal });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === 'Z_BUF_ERROR' ? 'truncated' : code === 'Z_DATA_ERROR' ? 'corrupted' : 'unreadable';
    return `${relative} is ${what}: ${(error as Error).message}`;
  }
  return bytes === 0 ? `${relative} decompresses to 0 bytes: it holds nothing` : undefined;
};

const jsonVerdict: FileVerdict = async (file, relative) => {
  try {
    JSON.parse(await readFile(file, 'utf8'));
    return undefined;
  } catch (error) {
    return `${relative} does not parse as JSON: ${(error as Error).message}`;
  }
};

/** Each SQLite file matching the glob passes integrity_check. */
export const checkSqliteRule = (pattern: string, ctx: RuleContext): Promise<RuleOutcome> => runGlobRule('sqlite', pattern, ctx, sqliteVerdict);
/** Each gzip file matching the glob decompresses to its end (and to something). */
export const checkGzipRule = (pattern: string, ctx: RuleContext): Promise<RuleOutcome> => runGlobRule('gzip', pattern, ctx, gzipVerdict);
/** Each JSON file matching the glob parses. */
export const checkJsonRule = (pattern: string, ctx: RuleContext): Promise<RuleOutcome> => runGlobRule('json', pattern, ctx, jsonVerdict);

/** Every file the inner sha256sum-format list names is present and matches; an empty list fails. */
export async function checkSha256SumsRule(list: string, ctx: RuleContext): Promise<RuleOutcome> {
  const fail = (problem: string): RuleOutcome => ({ rule: 'sha256sums', ok: false, summary: `sha256sums: ${problem}`, problems: [`sha256sums: ${problem}`] });
  const listSegments = entrySegments(list);
  if (listSegments === undefined) return fail(`"${list}" must be a path inside the archive`);
  const listFile = path.join(ctx.tree, ...listSegments);
  const info = await lstat(listFile).catch(() => undefined);
  if (!info?.isFile()) return fail(`${list} is not in the archive; the backup should write it, or remove restore.sha256sums`);
  const { entries, garbled } = parseSha256Sums(await readFile(listFile, 'utf8'));
  if (entries.length === 0) return fail(`${list} lists no files: an empty list proves nothing`);
  const problems = garbled.slice(0, 5).map((line) => `sha256sums: ${list} has a line that is not "<sha256>  <file>": "${line.slice(0, 80)}"`);
  const base = path.dirname(listFile);
  // One slot per listed file, so the problems come out in the list's order however the hashes finish.
  const found: (string | undefined)[] = [];
  const toHash: { index: number; file: string; name: string; hash: string }[] = [];
  for (const [index, entry] of entries.entries()) {
    if (ctx.signal.aborted) break;
    const segments = entrySegments(entry.name);
    if (segments === undefined) {
      found[index] = `sha256sums: ${entry.name} is outside the restored tree`;
      continue;
    }
    const file = path.join(base, ...segments);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      found[index] = `sha256sums: ${entry.name} is listed in ${list} but missing from the archive`;
      continue;
    }
    toHash.push({ index, file, name: entry.name, hash: entry.hash });
  }
  await hashListed(toHash, ctx.signal, (item, actual) => {
    if (actual !== item.hash) found[item.index] = `sha256sums: ${item.name} hashes to ${actual}, ${list} says ${item.hash}`;
  });
  problems.push(...found.filter((problem): problem is string => problem !== undefined));
  const ok = problems.length === 0 && !ctx.signal.aborted;
  return {
    rule: 'sha256sums',
    ok,
    summary: ok ? `sha256sums: ${entries.length} file(s) match ${list}` : `sha256sums: ${problems.length} problem(s) against ${list}`,
    problems,
  };
}

/**
 * Hashes the files on the shared hash pool, as many at once as it has workers, so the files of a restore hash on
 * every core and the event loop stays free. The first failure (an unreadable file, the run's abort) stops the
 * hashes still running and is thrown, as a single file's would be.
 */
async function hashListed<T extends { file: string }>(items: T[], signal: AbortSignal, onHash: (item: T, sha256: string) => void): Promise<void> {
  const pool = sharedHashPool();
  // The run's abort reaches these hashes through the abort hub (one listener on the run's signal, however many
  // restores hash at once), and the first failure stops them through the same signal.
  const stop = new AbortController();
  const offRunAbort = onAbort(signal, () => stop.abort(signal.reason));
  const bound = pLimit(pool.size);
  try {
    await Promise.all(
      items.map((item) =>
        bound(async () => {
          if (stop.signal.aborted) return;
          onHash(item, (await pool.hashFile(item.file, { signal: stop.signal })).sha256);
        }).catch((error: unknown) => {
          stop.abort();
          throw error;
        }),
      ),
    );
  } finally {
    offRunAbort();
    stop.abort();
  }
}

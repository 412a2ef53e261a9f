// The restore rules judged while the archive streams by: gzip entries decompress, JSON entries parse, an inner sha256 list matches.
import { createHash, type Hash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { loadPicomatch } from '../../src/util/picomatch.js';
import { displayName } from '../../src/util/tar/display-name.js';
import type { TarEntry } from '../../src/util/tar/entry.js';
import { keyOf, resolveInTree, splitEntryName, splitRaw } from '../../src/util/tar/restore-policy.js';
import { parseSha256Sums } from './sha256-list.js';
import { noFileMatches, type RuleOutcome } from './tree-rules.js';

/** The rules that can be judged on an entry's bytes, without a file on disk. */
export interface StreamRuleOptions {
  gzip?: string;
  json?: string;
  sha256sums?: string;
}

/** Sees one entry's content chunk by chunk (chunks are views: copy what must outlive the call). */
export interface ChunkConsumer {
  update(chunk: Buffer): Promise<void> | void;
  /** The entry's content ended (or was cut short: then `complete` is false). */
  end(complete: boolean): Promise<void>;
}

/** Judges entries as they stream by; `finish` turns what was seen into the rules' outcomes. */
export interface StreamRules {
  /** The consumers `entry`'s content must go through (none for entries no rule looks at). */
  consumersFor(entry: TarEntry): ChunkConsumer[];
  /**
   * The outcomes by rule, or `needsTree` when a rule needs content that went by unjudged (a hard link, or the
   * inner list, whose target no rule looked at): then only a restored tree can answer.
   */
  finish(): { outcomes: Partial<Record<'gzip' | 'json' | 'sha256sums', RuleOutcome>>; needsTree: boolean };
}

type Verdict = string | undefined;

/** Starts judging for the rules in `options` that are set. */
export function createStreamRules(options: StreamRuleOptions): StreamRules {
  const matcher = (pattern: string | undefined): ((key: string) => boolean) | undefined =>
    pattern === undefined ? undefined : loadPicomatch()(Buffer.from(pattern, 'utf8').toString('latin1'), { dot: true });
  const gzipMatch = matcher(options.gzip);
  const jsonMatch = matcher(options.json);
  const list = options.sha256sums === undefined ? undefined : splitEntryName(Buffer.from(options.sha256sums, 'utf8'));
  const listKey = list && !('refused' in list) ? list.key : undefined;
  const gzipVerdicts = new Map<string, Verdict>();
  const jsonVerdicts = new Map<string, Verdict>();
  const hashes = new Map<string, string>();
  const hardLinks = new Map<string, string>();
  const symlinks = new Map<string, Buffer>();
  let listText: string | undefined;
  let needsTree = false;

  function consumersFor(entry: TarEntry): ChunkConsumer[] {
    const split = splitEntryName(entry.name);
    if ('refused' in split) return [];
    const { key } = split;
    if (entry.type === 'symlink' && entry.linkTarget) symlinks.set(key, entry.linkTarget);
    if (entry.type === 'hardlink') {
      const target = splitEntryName(entry.linkTarget ?? Buffer.alloc(0));
      const resolved = 'refused' in target ? undefined : resolveInTree(target.segments, symlinks);
      if (resolved === undefined) return [];
      const targetKey = keyOf(resolved);
      hardLinks.set(key, targetKey);
      // A hard link holds its target's bytes: it takes the target's verdicts, which must have been judged.
      for (const [match, verdicts] of [[gzipMatch, gzipVerdicts], [jsonMatch, jsonVerdicts]] as const) {
        if (!match?.(key)) continue;
        if (verdicts.has(targetKey)) verdicts.set(key, verdicts.get(targetKey));
        else needsTree = true;
      }
      if (key === listKey) needsTree = true;
      return [];
    }
    if (entry.type !== 'file') return [];
    const shown = displayName(Buffer.from(key, 'latin1'));
    const consumers: ChunkConsumer[] = [];
    if (gzipMatch?.(key)) consumers.push(gzipProbe(shown, (verdict) => gzipVerdicts.set(key, verdict)));
    if (jsonMatch?.(key)) consumers.push(jsonProbe(shown, (verdict) => jsonVerdicts.set(key, verdict)));
    if (options.sha256sums !== undefined) consumers.push(hashProbe((hex) => hashes.set(key, hex)));
    if (key === listKey) consumers.push(collect((bytes) => (listText = bytes.toString('latin1'))));
    return consumers;
  }

  function finish(): ReturnType<StreamRules['finish']> {
    const outcomes: Partial<Record<'gzip' | 'json' | 'sha256sums', RuleOutcome>> = {};
    if (options.gzip !== undefined) outcomes.gzip = judgeGlob('gzip', options.gzip, gzipVerdicts);
    if (options.json !== undefined) outcomes.json = judgeGlob('json', options.json, jsonVerdicts);
    if (options.sha256sums !== undefined) outcomes.sha256sums = judgeList(options.sha256sums, listKey, listText, hashes, hardLinks, symlinks);
    return { outcomes, needsTree };
  }

  return { consumersFor, finish };
}

function judgeGlob(rule: 'gzip' | 'json', pattern: string, verdicts: Map<string, Verdict>): RuleOutcome {
  if (verdicts.size === 0) return noFileMatches(rule, pattern);
  const sorted = [...verdicts.entries()].map(([key, verdict]) => [displayName(Buffer.from(key, 'latin1')), verdict] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const problems = sorted.flatMap(([, verdict]) => (verdict === undefined ? [] : [`${rule}: ${verdict}`]));
  return {
    rule,
    ok: problems.length === 0,
    summary: problems.length === 0 ? `${rule}: ${verdicts.size} file(s) ok` : `${rule}: ${problems.length} of ${verdicts.size} file(s) bad`,
    problems,
  };
}

function judgeList(
  list: string,
  listKey: string | undefined,
  text: string | undefined,
  hashes: Map<string, string>,
  hardLinks: Map<string, string>,
  symlinks: Map<string, Buffer>,
): RuleOutcome {
  const fail = (problem: string): RuleOutcome => ({ rule: 'sha256sums', ok: false, summary: `sha256sums: ${problem}`, problems: [`sha256sums: ${problem}`] });
  if (listKey === undefined) return fail(`"${list}" must be a path inside the archive`);
  if (text === undefined) return fail(`${list} is not in the archive; the backup should write it, or remove restore.sha256sums`);
  // Read as latin1 so listed names keep their exact bytes; they are shown escaped.
  const { entries, garbled } = parseSha256Sums(text);
  if (entries.length === 0) return fail(`${list} lists no files: an empty list proves nothing`);
  const show = (latin1: string): string => displayName(Buffer.from(latin1, 'latin1'));
  const problems = garbled.slice(0, 5).map((line) => `sha256sums: ${list} has a line that is not "<sha256>  <file>": "${show(line.slice(0, 80))}"`);
  const base = splitRaw(Buffer.from(listKey, 'latin1')).slice(0, -1);
  for (const entry of entries) {
    const name = show(entry.name);
    const split = splitEntryName(Buffer.from(entry.name, 'latin1'));
    if ('refused' in split) {
      problems.push(`sha256sums: ${name} is outside the restored tree`);
      continue;
    }
    const resolved = resolveInTree([...base, ...split.segments], symlinks);
    const key = resolved === undefined ? undefined : keyOf(resolved);
    const actual = key === undefined ? undefined : hashes.get(hardLinks.get(key) ?? key);
    if (actual === undefined) {
      problems.push(`sha256sums: ${name} is listed in ${list} but missing from the archive`);
      continue;
    }
    if (actual !== entry.hash) problems.push(`sha256sums: ${name} hashes to ${actual}, ${list} says ${entry.hash}`);
  }
  const ok = problems.length === 0;
  return {
    rule: 'sha256sums',
    ok,
    summary: ok ? `sha256sums: ${entries.length} file(s) match ${list}` : `sha256sums: ${problems.length} problem(s) against ${list}`,
    problems,
  };
}

function hashProbe(done: (hex: string) => void): ChunkConsumer {
  const hash: Hash = createHash('sha256');
  return {
    update: (chunk) => {
      hash.update(chunk);
    },
    end: async (complete) => {
      if (complete) done(hash.digest('hex'));
    },
  };
}

function collect(done: (bytes: Buffer) => void): ChunkConsumer {
  const chunks: Buffer[] = [];
  return {
    update: (chunk) => {
      chunks.push(Buffer.from(chunk));
    },
    end: async (complete) => {
      if (complete) done(Buffer.concat(chunks));
    },
  };
}

function jsonProbe(shown: string, done: (verdict: Verdict) => void): ChunkConsumer {
  return collect((bytes) => {
    try {
      JSON.parse(bytes.toString('utf8'));
      done(undefined);
    } catch (error) {
      done(`${shown} does not parse as JSON: ${(error as Error).message}`);
    }
  });
}

/** Decompresses the entry as it streams by, counting what comes out; only the count is kept. */
function gzipProbe(shown: string, done: (verdict: Verdict) => void): ChunkConsumer {
  const gunzip = createGunzip();
  let bytes = 0;
  let failure: NodeJS.ErrnoException | undefined;
  gunzip.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  const settled = new Promise<void>((resolve) => {
    gunzip.on('end', resolve);
    gunzip.on('close', resolve);
    gunzip.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error;
      resolve();
    });
  });
  return {
    update: async (chunk) => {
      if (failure !== undefined || gunzip.destroyed) return;
      // zlib works on the chunk later: the reader's view would be reused by then.
      if (!gunzip.write(Buffer.from(chunk))) await Promise.race([new Promise((resolve) => gunzip.once('drain', resolve)), settled]);
    },
    end: async (complete) => {
      if (!complete) {
        gunzip.destroy();
        return;
      }
      if (failure === undefined && !gunzip.destroyed) gunzip.end();
      await settled;
      if (failure !== undefined) {
        const what = failure.code === 'Z_BUF_ERROR' ? 'truncated' : failure.code === 'Z_DATA_ERROR' ? 'corrupted' : 'unreadable';
        done(`${shown} is ${what}: ${failure.message}`);
      } else done(bytes === 0 ? `${shown} decompresses to 0 bytes: it holds nothing` : undefined);
    },
  };
}

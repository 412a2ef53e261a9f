// The tree source: an rsync-style mirror folder, its freshness from a stamp file or its newest file, compared with its source by rsync.
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource, Location, SourceContext, SourceOutcome } from '../src/contract/source.js';
import { describeFailure, succeeded, type ProcessResult, type ProcessSpec } from '../src/exec/types.js';
import { formatDuration } from '../src/util/duration.js';
import { lastLines, OUTPUT_TAIL_LINES } from '../src/util/tail.js';

/** A `tree:` artifact, resolved. */
export interface TreeOptions {
  path: string;
  /** A file whose mtime says when the mirror was last completed; otherwise the newest file does. */
  stamp?: string;
  /** The folder the mirror copies, on the same machine as the mirror. */
  compareWith?: string;
  /** Missing, extra and changed files allowed before the comparison fails. */
  tolerance: number;
  /** An SSH host from `hosts` where the mirror (and its source) live. */
  host?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const KILL_GRACE_MS = 5_000;
// One line per file ("<mtime> <size>"): room for millions of files.
const LISTING_CAPTURE_BYTES = 256 * 1024 * 1024;
const SHOWN_DIFFERENCES = 10;

const schema = z.strictObject({
  path: textSchema.check(z.describe('The mirror folder.')),
  stamp: z.optional(textSchema).check(z.describe('A file in or beside the mirror the copy job touches when it completes.')),
  compare_with: z.optional(textSchema).check(z.describe('The folder the mirror copies; compared by rsync --dry-run when check: is set.')),
  tolerance: z.optional(z.int().check(z.gte(0))).check(z.describe('Missing, extra and changed files allowed (default 0).')),
  host: z.optional(textSchema).check(z.describe('The mirror is on this host from `hosts`.')),
});

function run(ctx: SourceContext<TreeOptions>, spec: Omit<ProcessSpec, 'timeoutMs' | 'killGraceMs' | 'signal' | 'env'>): Promise<ProcessResult> {
  const full: ProcessSpec = { ...spec, env: ctx.env, timeoutMs: ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, killGraceMs: KILL_GRACE_MS, signal: ctx.signal };
  return ctx.options.host !== undefined ? ctx.exec.runRemote(ctx.options.host, full) : ctx.exec.run(full);
}

function where(options: TreeOptions): string {
  return `${options.path}${options.host !== undefined ? ` on ${options.host}` : ''}`;
}

function failure(what: string, result: ProcessResult, timeoutMs: number): string {
  const last = lastLines(result.output, 1)[0];
  return `${what} ${describeFailure(result, formatDuration(timeoutMs))}${last !== undefined ? `: ${last}` : ''}`;
}

/** Sums `find -printf '%T@ %s\n'` lines: file count, total bytes, newest mtime in ms. */
export function summariseListing(output: string): { files: number; bytes: number; newestMs: number } {
  let files = 0;
  let bytes = 0;
  let newestMs = 0;
  for (const line of output.split('\n')) {
    const match = /^(\d+(?:\.\d+)?) (\d+)$/.exec(line.trim());
    if (!match) continue;
    files += 1;
    bytes += Number(match[2]);
    newestMs = Math.max(newestMs, Math.floor(Number(match[1]) * 1000));
  }
  return { files, bytes, newestMs };
}

/** What `rsync --dry-run --itemize-changes` says the mirror lacks, holds extra, or holds changed. */
export interface TreeDifferences {
  missing: string[];
  extra: string[];
  changed: string[];
}

/** Reads rsync's itemized lines: "*deleting" is extra in the mirror, "+++++++" is missing, other file transfers changed. */
export function parseItemizedChanges(output: string): TreeDifferences {
  const differences: TreeDifferences = { missing: [], extra: [], changed: [] };
  for (const line of output.split('\n')) {
    const deleting = /^\*deleting\s+(.*)$/.exec(line);
    if (deleting) {
      if (!deleting[1]!.endsWith('/')) differences.extra.push(deleting[1]!);
      continue;
    }
    const item = /^([<>ch.])([fdLDS])(\S{9})\s(.*)$/.exec(line);
    if (!item || item[2] === 'd') continue;
    const [, , , flags, name] = item;
    if (flags!.startsWith('+++')) differences.missing.push(name!);
    // Only a content difference counts: size, or checksum under --checksum ("c"); times and modes alone do not.
    else if (flags![0] === 'c' || flags![1] === 's') differences.changed.push(name!);
  }
  return differences;
}

/** `tree:` artifacts: a mirror folder, judged by its files' times and sizes, and against its source. */
export const treeSource: ArtifactSource<TreeOptions> = {
  kind: 'tree',
  config: defineFragment(schema, (raw, ctx): TreeOptions => {
    const local = raw.host === undefined;
    const resolve = (p: string): string => (local ? ctx.resolvePath(p) : p);
    return {
      path: resolve(raw.path),
      ...(raw.stamp !== undefined && { stamp: resolve(raw.stamp) }),
      ...(raw.compare_with !== undefined && { compareWith: resolve(raw.compare_with) }),
      tolerance: raw.tolerance ?? 0,
      ...(raw.host !== undefined && { host: raw.host }),
    };
  }),
  provides: ['restore', 'integrity'],
  name: (options) => `tree ${where(options)}`,
  async locate(ctx): Promise<Location> {
    const { options } = ctx;
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const listed = await run(ctx, { argv: ['find', options.path, '-type', 'f', '-printf', '%T@ %s\\n'], maxCaptureBytes: LISTING_CAPTURE_BYTES, label: 'find' });
    if (!succeeded(listed)) {
      return { found: false, message: `cannot read the mirror ${where(options)}: ${failure('find', listed, timeoutMs)}; check that the folder exists and is readable` };
    }
    const tree = summariseListing(listed.output);
    if (tree.files === 0) return { found: false, message: `the mirror ${where(options)} holds no files` };
    let completedAtMs = tree.newestMs;
    if (options.stamp !== undefined) {
      const stamped = await run(ctx, { argv: ['stat', '-c', '%.9Y', options.stamp], label: 'stat' });
      const seconds = Number(lastLines(stamped.output, 1)[0]);
      if (!succeeded(stamped) || !Number.isFinite(seconds)) {
        return { found: false, message: `the mirror's stamp ${options.stamp} cannot be read (${failure('stat', stamped, timeoutMs)}); the copy job should touch it when it completes` };
      }
      completedAtMs = Math.floor(seconds * 1000);
    }
    return {
      found: true,
      backup: { id: options.path, location: `tree ${where(options)} (${tree.files} files)`, completedAtMs, bytes: tree.bytes, files: tree.files },
    };
  },
  async restore(ctx, _backup, dir, include): Promise<SourceOutcome> {
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (ctx.options.host !== undefined) {
      // tar on the host packs the mirror (or the include paths); only the tar crosses SSH.
      const argv = ['tar', '-C', ctx.options.path, '-cf', '-', '--', ...(include.length > 0 ? include : ['.'])];
      const spec: ProcessSpec = { argv, env: ctx.env, timeoutMs, killGraceMs: KILL_GRACE_MS, signal: ctx.signal, label: 'tar' };
      const { judgeTarStream, restoreTarStream } = await import('./tar-stream-restore.js');
      const streamed = await restoreTarStream(ctx.exec, ctx.options.host, spec, dir);
      const failed = judgeTarStream(`the mirror ${where(ctx.options)}`, streamed, (result) => `packing the mirror ${where(ctx.options)}: ${failure('tar', result, timeoutMs)}`);
      if (failed) return { ok: false, ...failed, details: failed.details ?? lastLines(streamed.result.output, OUTPUT_TAIL_LINES) };
      return { ok: true, message: `tar streamed the mirror from ${ctx.options.host}: ${streamed.read.entries} entries, read to its end` };
    }
    const sources = include.length > 0 ? include.map((p) => `${ctx.options.path}/./${p}`) : [`${ctx.options.path}/`];
    const result = await run(ctx, { argv: ['rsync', '-a', ...(include.length > 0 ? ['--relative'] : []), ...sources, `${dir}/`], label: 'rsync' });
    if (succeeded(result)) return { ok: true, message: `copied the mirror ${ctx.options.path}` };
    return { ok: false, message: failure('rsync', result, timeoutMs), details: lastLines(result.output, OUTPUT_TAIL_LINES) };
  },
  async verify(ctx, _backup, depth): Promise<SourceOutcome> {
    const { options } = ctx;
    if (options.compareWith === undefined) return { ok: false, message: `tree ${where(options)}: check: needs compare_with, the folder the mirror copies` };
    const checksum = depth.readData !== undefined;
    const argv = ['rsync', '-a', '--dry-run', '--itemize-changes', '--delete', ...(checksum ? ['--checksum'] : []), `${options.compareWith}/`, `${options.path}/`];
    const result = await run(ctx, { argv, label: 'rsync', maxCaptureBytes: LISTING_CAPTURE_BYTES });
    if (!succeeded(result)) {
      return { ok: false, message: `comparing ${where(options)} with ${options.compareWith}: ${failure('rsync', result, ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS)}`, details: lastLines(result.output, OUTPUT_TAIL_LINES) };
    }
    const found = parseItemizedChanges(result.output);
    const total = found.missing.length + found.extra.length + found.changed.length;
    const counts = `${found.missing.length} missing, ${found.extra.length} extra, ${found.changed.length} changed${checksum ? ' (by checksum)' : ''}`;
    const details = [
      ...found.missing.slice(0, SHOWN_DIFFERENCES).map((f) => `missing: ${f}`),
      ...found.extra.slice(0, SHOWN_DIFFERENCES).map((f) => `extra: ${f}`),
      ...found.changed.slice(0, SHOWN_DIFFERENCES).map((f) => `changed: ${f}`),
    ];
    if (total <= options.tolerance) return { ok: true, message: `the mirror matches ${options.compareWith}: ${counts} (tolerance ${options.tolerance})`, details };
    return { ok: false, message: `the mirror differs from ${options.compareWith}: ${counts}, more than the tolerance of ${options.tolerance}; run the copy job again and find why it missed them`, details };
  },
};

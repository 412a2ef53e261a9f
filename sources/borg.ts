// The borg source: the newest archive (optionally of a name prefix), extracted and checked by borg itself.
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource, Location, SourceContext, SourceOutcome } from '../src/contract/source.js';
import { describeFailure, succeeded, type ProcessResult, type ProcessSpec } from '../src/exec/types.js';
import { formatDuration } from '../src/util/duration.js';
import { quoteShellArg } from '../src/util/shell-quote.js';
import { lastLines, OUTPUT_TAIL_LINES } from '../src/util/tail.js';

/** A `borg:` artifact, resolved: the passphrase only through a file or a command borg runs itself. */
export interface BorgOptions {
  repo: string;
  passphraseFile?: string;
  passcommand?: string;
  /** Only archives whose name starts with this. */
  prefix?: string;
  /** An SSH host from `hosts` where borg runs. */
  host?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const KILL_GRACE_MS = 10_000;

const schema = z
  .strictObject({
    repo: textSchema.check(z.describe('The borg repository: a folder, or ssh://user@host/path.')),
    passphrase_file: z.optional(textSchema).check(z.describe('File holding the passphrase (read by borg through BORG_PASSCOMMAND).')),
    passcommand: z.optional(textSchema).check(z.describe('Command printing the passphrase (BORG_PASSCOMMAND), run by borg.')),
    prefix: z.optional(textSchema).check(z.describe('Only archives whose name starts with this.')),
    host: z.optional(textSchema).check(z.describe('Run borg on this host from `hosts`.')),
  })
  .check(z.refine((raw) => (raw.passphrase_file === undefined) !== (raw.passcommand === undefined), {
    message: 'a borg artifact needs exactly one of passphrase_file or passcommand (a passphrase is never written in the config)',
  }));

/**
 * The process of one borg command; it never prompts, and reads the passphrase only through BORG_PASSCOMMAND.
 * borg 1.x prints times without a zone, in the local time of wherever it runs (a host may differ from this
 * machine): it runs under TZ=UTC0, set in its argv so it holds on a host too, and its times are read as UTC.
 */
function borgSpec(ctx: SourceContext<BorgOptions>, args: string[], cwd?: string): ProcessSpec {
  const { options } = ctx;
  const env: Record<string, string> = { ...ctx.env };
  for (const name of ['BORG_PASSPHRASE', 'BORG_PASSPHRASE_FD', 'BORG_PASSCOMMAND', 'BORG_REPO']) delete env[name];
  env.BORG_PASSCOMMAND = options.passcommand ?? `cat ${quoteShellArg(options.passphraseFile ?? '/dev/null')}`;
  // A moved or unencrypted repository makes borg ask a question; the answer is no, and the message says why.
  env.BORG_RELOCATED_REPO_ACCESS_IS_OK = 'no';
  env.BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK = 'no';
  return {
    argv: ['env', 'TZ=UTC0', 'borg', ...args],
    env,
    // Exported to a host even when rearguard's own environment holds the same value.
    exportEnv: ['BORG_PASSCOMMAND', 'BORG_RELOCATED_REPO_ACCESS_IS_OK', 'BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK'],
    ...(cwd !== undefined && { cwd }),
    timeoutMs: ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killGraceMs: KILL_GRACE_MS,
    signal: ctx.signal,
    label: 'borg',
  };
}

/** Runs borg here or on the configured host. */
function runBorg(ctx: SourceContext<BorgOptions>, args: string[], cwd?: string): Promise<ProcessResult> {
  const spec = borgSpec(ctx, args, cwd);
  return ctx.options.host !== undefined ? ctx.exec.runRemote(ctx.options.host, spec) : ctx.exec.run(spec);
}

/** Says what went wrong in words a person can act on, from borg's own words. */
export function explainBorgFailure(options: BorgOptions, result: ProcessResult, timeoutMs: number): string {
  const where = `borg repository ${options.repo}${options.host !== undefined ? ` on ${options.host}` : ''}`;
  const output = result.output;
  // borg runs through env (see borgSpec): a missing borg is env's exit 127.
  if (result.exitCode === 127 && /borg.*No such file or directory/i.test(output)) {
    return `borg is not installed on ${options.host ?? 'this machine'} (env: borg: No such file or directory); install borgbackup there`;
  }
  if (/passphrase supplied .* is incorrect/i.test(output)) {
    const from = options.passphraseFile !== undefined ? `the passphrase file ${options.passphraseFile}` : 'passcommand';
    return `${where}: wrong passphrase (borg: "passphrase ... is incorrect"); check ${from}`;
  }
  if (/does not exist|is not a valid repository|Connection closed by remote host|Remote: /i.test(output)) {
    return `${where} cannot be opened: ${lastLines(output, 2).join(' ')}; check that the repository exists and is reachable from ${options.host ?? 'this machine'}`;
  }
  if (/Failed to create\/acquire the lock|lock/i.test(output) && result.exitCode === 2) {
    return `${where} is locked: ${lastLines(output, 2).join(' ')}; wait for the other borg, or run borg break-lock if it is stale`;
  }
  const last = lastLines(output, 1)[0];
  return `${where}: borg ${describeFailure(result, formatDuration(timeoutMs))}${last !== undefined ? `: ${last}` : ''}`;
}

/** The JSON object borg printed: from a line that is "{" to the last line that is "}" (borg's log lines may surround it). */
export function extractBorgJson(output: string): unknown {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line === '{');
  const end = lines.lastIndexOf('}');
  if (start < 0 || end < start) throw new Error('no JSON document in the output');
  return JSON.parse(lines.slice(start, end + 1).join('\n'));
}

const listSchema = z.object({ archives: z.array(z.object({ name: z.string(), id: z.string(), time: z.string(), start: z.optional(z.string()) })) });
const infoSchema = z.object({
  archives: z.array(z.object({ name: z.string(), end: z.optional(z.string()), start: z.string(), stats: z.object({ original_size: z.number() }) })).check(z.minLength(1)),
});

/** An archive as `borg list --json` lists it (only the fields used). */
export type BorgArchive = z.infer<typeof listSchema>['archives'][number];

/** A time borg printed: with its zone when it gives one, else in UTC (borg runs under TZ=UTC0, see borgSpec). */
export function parseBorgTime(text: string): number {
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(/(\.\d{3})\d*$/, '$1')}Z`);
}

/** The newest archive of the list whose name starts with `prefix`. */
export function chooseNewestArchive(doc: unknown, prefix?: string): BorgArchive | undefined {
  let newest: BorgArchive | undefined;
  for (const archive of listSchema.parse(doc).archives) {
    if (prefix !== undefined && !archive.name.startsWith(prefix)) continue;
    if (!newest || parseBorgTime(archive.time) > parseBorgTime(newest.time)) newest = archive;
  }
  return newest;
}

function describeRepo(options: BorgOptions): string {
  return `borg ${options.repo}${options.host !== undefined ? ` on ${options.host}` : ''}`;
}

function tail(result: ProcessResult): string[] {
  return lastLines(result.output, OUTPUT_TAIL_LINES);
}

/** `borg:` artifacts: the newest archive of a repository. */
export const borgSource: ArtifactSource<BorgOptions> = {
  kind: 'borg',
  secretFiles: (options) => (options.host === undefined && options.passphraseFile !== undefined ? [options.passphraseFile] : []),
  config: defineFragment(schema, (raw, ctx): BorgOptions => {
    const local = raw.host === undefined;
    const repo = local && !raw.repo.includes('://') && !/^[^/]*:/.test(raw.repo) ? ctx.resolvePath(raw.repo) : raw.repo;
    return {
      repo,
      ...(raw.passphrase_file !== undefined && { passphraseFile: local ? ctx.resolvePath(raw.passphrase_file) : raw.passphrase_file }),
      ...(raw.passcommand !== undefined && { passcommand: raw.passcommand }),
      ...(raw.prefix !== undefined && { prefix: raw.prefix }),
      ...(raw.host !== undefined && { host: raw.host }),
    };
  }),
  provides: ['restore', 'integrity'],
  name: (options) => `${describeRepo(options)}${options.prefix !== undefined ? ` archives ${options.prefix}*` : ''}`,
  async locate(ctx): Promise<Location> {
    const { options } = ctx;
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Listing and info only read; bypassing the lock means a stopped run never leaves one behind.
    const listed = await runBorg(ctx, ['list', '--json', '--bypass-lock', options.repo]);
    if (!succeeded(listed)) return { found: false, message: explainBorgFailure(options, listed, timeoutMs) };
    let archive: BorgArchive | undefined;
    try {
      archive = chooseNewestArchive(extractBorgJson(listed.output), options.prefix);
    } catch (error) {
      return { found: false, message: `borg list printed no archive list (${(error as Error).message}): ${lastLines(listed.output, 1).join('')}` };
    }
    if (!archive) {
      return { found: false, message: `borg repository ${options.repo} has no archive${options.prefix !== undefined ? ` named ${options.prefix}*` : ''}` };
    }
    const info = await runBorg(ctx, ['info', '--json', '--bypass-lock', `${options.repo}::${archive.name}`]);
    if (!succeeded(info)) return { found: false, message: explainBorgFailure(options, info, timeoutMs) };
    let details: z.infer<typeof infoSchema>['archives'][number];
    try {
      details = infoSchema.parse(extractBorgJson(info.output)).archives[0]!;
    } catch (error) {
      return { found: false, message: `borg info ${archive.name} printed no size (${(error as Error).message})` };
    }
    return {
      found: true,
      backup: {
        id: archive.name,
        location: `${describeRepo(options)} archive ${archive.name}`,
        completedAtMs: parseBorgTime(details.end ?? details.start),
        bytes: details.stats.original_size,
      },
    };
  },
  async restore(ctx, backup, dir, include): Promise<SourceOutcome> {
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (ctx.options.host !== undefined) {
      // borg runs on the host and prints the archive as a tar; only the tar crosses SSH.
      const spec = borgSpec(ctx, ['export-tar', '--bypass-lock', `${ctx.options.repo}::${backup.id}`, '-', ...include]);
      const { judgeTarStream, restoreTarStream } = await import('./tar-stream-restore.js');
      const streamed = await restoreTarStream(ctx.exec, ctx.options.host, spec, dir);
      const failed = judgeTarStream(`borg archive ${backup.id}`, streamed, (result) => explainBorgFailure(ctx.options, result, timeoutMs));
      if (failed) return { ok: false, ...failed, details: failed.details ?? tail(streamed.result) };
      return { ok: true, message: `borg export-tar streamed archive ${backup.id} from ${ctx.options.host} as a tar of ${streamed.read.entries} entries, read to its end` };
    }
    // borg extracts into its working directory: the scratch folder.
    const result = await runBorg(ctx, ['extract', '--bypass-lock', `${ctx.options.repo}::${backup.id}`, ...include], dir);
    if (succeeded(result)) return { ok: true, message: `borg extracted archive ${backup.id}` };
    return { ok: false, message: explainBorgFailure(ctx.options, result, timeoutMs), details: tail(result) };
  },
  async verify(ctx, _backup, depth): Promise<SourceOutcome> {
    // Segments of the whole repository, and the newest archive's metadata; with a data read, its every chunk.
    const args = ['check', '--last', '1', ...(depth.readData !== undefined ? ['--verify-data'] : []), ctx.options.repo];
    const result = await runBorg(ctx, args);
    const what = `borg check${depth.readData !== undefined ? ' --verify-data' : ''} of the newest archive`;
    if (succeeded(result)) return { ok: true, message: `${what}: no problems found`, details: tail(result) };
    const unopened = /passphrase supplied .* is incorrect|does not exist|is not a valid repository/i.test(result.output);
    if (unopened || (result.exitCode !== 1 && !/errors found/i.test(result.output))) {
      return { ok: false, message: explainBorgFailure(ctx.options, result, ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS), details: tail(result) };
    }
    const found = result.output.split('\n').find((line) => /error|corrupt|mismatch|missing/i.test(line));
    return { ok: false, message: `${what} found the repository damaged${found !== undefined ? `: ${found.trim()}` : ''}; repair it (borg check --repair) and make a new backup`, details: tail(result) };
  },
};

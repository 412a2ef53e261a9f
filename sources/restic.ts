// The restic source: the newest snapshot matching host, tags and paths, restored and checked by restic itself.
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource, Location, SourceContext, SourceOutcome } from '../src/contract/source.js';
import { describeFailure, succeeded, type ProcessResult, type ProcessSpec } from '../src/exec/types.js';
import { formatDuration } from '../src/util/duration.js';
import { lastLines, OUTPUT_TAIL_LINES } from '../src/util/tail.js';

/** A `restic:` artifact, resolved: the password only through a file or a command restic runs itself. */
export interface ResticOptions {
  repo: string;
  passwordFile?: string;
  passwordCommand?: string;
  /** An SSH host from `hosts` where restic runs (the repository is reachable from there). */
  host?: string;
  /** The snapshot's hostname (restic's --host). */
  snapshotHost?: string;
  tags: string[];
  paths: string[];
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const KILL_GRACE_MS = 10_000;

const schema = z
  .strictObject({
    repo: textSchema.check(z.describe('The restic repository: a folder, or any location restic accepts (sftp:, s3:, rest:).')),
    password_file: z.optional(textSchema).check(z.describe('File holding the repository password (RESTIC_PASSWORD_FILE).')),
    password_command: z.optional(textSchema).check(z.describe('Command printing the password (RESTIC_PASSWORD_COMMAND), run by restic.')),
    host: z.optional(textSchema).check(z.describe('Run restic on this host from `hosts`.')),
    snapshot_host: z.optional(textSchema).check(z.describe('Only snapshots made on this hostname (restic --host).')),
    tags: z.optional(z.array(textSchema)).check(z.describe('Only snapshots carrying all these tags.')),
    paths: z.optional(z.array(textSchema)).check(z.describe('Only snapshots of exactly these paths.')),
  })
  .check(z.refine((raw) => (raw.password_file === undefined) !== (raw.password_command === undefined), {
    message: 'a restic artifact needs exactly one of password_file or password_command (a password is never written in the config)',
  }));

/** Builds restic's argv: global flags first; listing never takes a lock, so a killed run leaves none behind. */
function resticArgv(options: ResticOptions, command: string, args: string[], lock = false): string[] {
  return ['restic', '--repo', options.repo, '--no-cache', ...(lock ? [] : ['--no-lock']), command, ...args];
}

/** The process of one restic command, the password given only through restic's own variables. */
function resticSpec(ctx: SourceContext<ResticOptions>, argv: string[]): ProcessSpec {
  const { options } = ctx;
  const env: Record<string, string> = { ...ctx.env };
  delete env.RESTIC_PASSWORD;
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  delete env.RESTIC_REPOSITORY;
  if (options.passwordFile !== undefined) env.RESTIC_PASSWORD_FILE = options.passwordFile;
  if (options.passwordCommand !== undefined) env.RESTIC_PASSWORD_COMMAND = options.passwordCommand;
  // Exported to a host even when rearguard's own environment holds the same value.
  const exportEnv = ['RESTIC_PASSWORD_FILE', 'RESTIC_PASSWORD_COMMAND'];
  return { argv, env, exportEnv, timeoutMs: ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS, killGraceMs: KILL_GRACE_MS, signal: ctx.signal, label: 'restic' };
}

/** Runs restic here or on the configured host. */
function runRestic(ctx: SourceContext<ResticOptions>, argv: string[]): Promise<ProcessResult> {
  const spec = resticSpec(ctx, argv);
  return ctx.options.host !== undefined ? ctx.exec.runRemote(ctx.options.host, spec) : ctx.exec.run(spec);
}

/** Says what went wrong in words a person can act on, from restic's own words. */
export function explainResticFailure(options: ResticOptions, result: ProcessResult, timeoutMs: number): string {
  const where = `restic repository ${options.repo}${options.host !== undefined ? ` on ${options.host}` : ''}`;
  const output = result.output;
  if (/wrong password|no key found/i.test(output)) {
    const from = options.passwordFile !== undefined ? `the password file ${options.passwordFile}` : 'password_command';
    return `${where}: wrong password (restic: "wrong password or no key found"); check ${from}`;
  }
  if (/Is there a repository at the following location|unable to open config file|repository does not exist/i.test(output)) {
    return `${where} cannot be opened: ${lastLines(output, 3).join(' ')}; check that the repository exists and is reachable from ${options.host ?? 'this machine'}`;
  }
  if (/unable to create lock|repository is already locked/i.test(output)) {
    return `${where} is locked by another restic process: ${lastLines(output, 2).join(' ')}; wait for it, or run restic unlock if it is stale`;
  }
  const last = lastLines(output, 1)[0];
  return `${where}: restic ${describeFailure(result, formatDuration(timeoutMs))}${last !== undefined ? `: ${last}` : ''}`;
}

/** The JSON document restic printed (stdout and stderr arrive together, so progress or warning lines are skipped). */
export function extractJson(output: string): unknown {
  const lines = output.split('\n').reverse();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) continue;
    try {
      return JSON.parse(trimmed);
    } catch {
      // a line that only looks like JSON; keep looking
    }
  }
  throw new Error('no JSON document in the output');
}

const snapshotSchema = z.object({
  id: z.string(),
  short_id: z.optional(z.string()),
  time: z.string(),
  hostname: z.optional(z.string()),
  paths: z.optional(z.array(z.string())),
  tags: z.nullish(z.array(z.string())),
  summary: z.optional(z.looseObject({ total_bytes_processed: z.optional(z.number()) })),
});

/** A restic snapshot as `restic snapshots --json` lists it (only the fields used). */
export type ResticSnapshot = z.infer<typeof snapshotSchema>;

/** The newest of the listed snapshots (restic already filtered by host, tags and paths). */
export function chooseNewestSnapshot(doc: unknown): ResticSnapshot | undefined {
  const list = z.array(snapshotSchema).parse(doc);
  let newest: ResticSnapshot | undefined;
  for (const snapshot of list) {
    if (!newest || Date.parse(snapshot.time) > Date.parse(newest.time)) newest = snapshot;
  }
  return newest;
}

function describeSelection(options: ResticOptions): string {
  const parts = [
    ...(options.snapshotHost !== undefined ? [`host ${options.snapshotHost}`] : []),
    ...(options.tags.length > 0 ? [`tags ${options.tags.join(',')}`] : []),
    ...(options.paths.length > 0 ? [`paths ${options.paths.join(', ')}`] : []),
  ];
  return parts.length > 0 ? ` matching ${parts.join(', ')}` : '';
}

function tail(result: ProcessResult): string[] {
  return lastLines(result.output, OUTPUT_TAIL_LINES);
}

/** `restic:` artifacts: the newest matching snapshot of a repository. */
export const resticSource: ArtifactSource<ResticOptions> = {
  kind: 'restic',
  secretFiles: (options) => (options.host === undefined && options.passwordFile !== undefined ? [options.passwordFile] : []),
  config: defineFragment(schema, (raw, ctx): ResticOptions => {
    const local = raw.host === undefined;
    // Paths on a host are the host's; a local folder repository is taken from the config's folder.
    const repo = local && !/^[a-z0-9]+:/i.test(raw.repo) ? ctx.resolvePath(raw.repo) : raw.repo;
    return {
      repo,
      ...(raw.password_file !== undefined && { passwordFile: local ? ctx.resolvePath(raw.password_file) : raw.password_file }),
      ...(raw.password_command !== undefined && { passwordCommand: raw.password_command }),
      ...(raw.host !== undefined && { host: raw.host }),
      ...(raw.snapshot_host !== undefined && { snapshotHost: raw.snapshot_host }),
      tags: raw.tags ?? [],
      paths: raw.paths ?? [],
    };
  }),
  provides: ['restore', 'integrity'],
  name: (options) => `restic ${options.repo}${options.host !== undefined ? ` on ${options.host}` : ''}${describeSelection(options)}`,
  async locate(ctx): Promise<Location> {
    const { options } = ctx;
    const filters = [
      ...(options.snapshotHost !== undefined ? ['--host', options.snapshotHost] : []),
      ...(options.tags.length > 0 ? ['--tag', options.tags.join(',')] : []),
      ...options.paths.flatMap((p) => ['--path', p]),
    ];
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const listed = await runRestic(ctx, resticArgv(options, 'snapshots', ['--json', ...filters]));
    if (!succeeded(listed)) return { found: false, message: explainResticFailure(options, listed, timeoutMs) };
    let snapshot: ResticSnapshot | undefined;
    try {
      snapshot = chooseNewestSnapshot(extractJson(listed.output));
    } catch (error) {
      return { found: false, message: `restic snapshots printed no snapshot list (${(error as Error).message}): ${lastLines(listed.output, 1).join('')}` };
    }
    if (!snapshot) return { found: false, message: `restic repository ${options.repo} has no snapshot${describeSelection(options)}` };
    let bytes = snapshot.summary?.total_bytes_processed;
    // restic before 0.17 records no summary in the snapshot; stats adds up what a restore would write.
    if (bytes === undefined) {
      const stats = await runRestic(ctx, resticArgv(options, 'stats', [snapshot.id, '--json', '--mode', 'restore-size']));
      if (!succeeded(stats)) return { found: false, message: explainResticFailure(options, stats, timeoutMs) };
      try {
        bytes = z.object({ total_size: z.number() }).parse(extractJson(stats.output)).total_size;
      } catch (error) {
        return { found: false, message: `restic stats ${snapshot.id} printed no size (${(error as Error).message})` };
      }
    }
    const shortId = snapshot.short_id ?? snapshot.id.slice(0, 8);
    return {
      found: true,
      backup: {
        id: snapshot.id,
        location: `restic ${options.repo}${options.host !== undefined ? ` on ${options.host}` : ''} snapshot ${shortId}`,
        completedAtMs: Date.parse(snapshot.time),
        bytes,
      },
    };
  },
  async restore(ctx, backup, dir, include): Promise<SourceOutcome> {
    const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (ctx.options.host !== undefined) {
      // restic runs on the host and prints the snapshot as a tar; only the tar crosses SSH.
      const short = backup.id.slice(0, 8);
      const { includesEntry, judgeTarStream, restoreTarStream } = await import('./tar-stream-restore.js');
      const streamed = await restoreTarStream(ctx.exec, ctx.options.host, resticSpec(ctx, resticArgv(ctx.options, 'dump', ['--archive', 'tar', backup.id, '/'])), dir, (entry) =>
        includesEntry(include, entry),
      );
      const failed = judgeTarStream(`restic snapshot ${short}`, streamed, (result) => explainResticFailure(ctx.options, result, timeoutMs));
      if (failed) return { ok: false, ...failed, details: failed.details ?? tail(streamed.result) };
      return { ok: true, message: `restic dump streamed snapshot ${short} from ${ctx.options.host} as a tar of ${streamed.read.entries} entries, read to its end` };
    }
    const result = await runRestic(ctx, resticArgv(ctx.options, 'restore', [backup.id, '--target', dir, ...include.flatMap((p) => ['--include', p])]));
    if (succeeded(result)) return { ok: true, message: `restic restored snapshot ${backup.id.slice(0, 8)}` };
    return { ok: false, message: explainResticFailure(ctx.options, result, timeoutMs), details: tail(result) };
  },
  async verify(ctx, _backup, depth): Promise<SourceOutcome> {
    const subset = depth.readData === undefined ? [] : ['percent' in depth.readData ? `--read-data-subset=${depth.readData.percent}%` : `--read-data-subset=${Math.max(1, Math.ceil(depth.readData.bytes / 1024))}K`];
    const result = await runRestic(ctx, resticArgv(ctx.options, 'check', subset));
    const read = subset.length > 0 ? `, ${subset[0]}` : '';
    if (succeeded(result)) return { ok: true, message: `restic check${read}: no errors were found`, details: tail(result) };
    if (result.exitCode !== 1 || /wrong password|Is there a repository|unable to open config/i.test(result.output)) {
      return { ok: false, message: explainResticFailure(ctx.options, result, ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS), details: tail(result) };
    }
    const found = lastLines(result.output.split('\n').filter((l) => /error|fatal|does not match|missing|damaged/i.test(l)).join('\n'), 1)[0];
    return { ok: false, message: `restic check${read} found the repository damaged${found !== undefined ? `: ${found.trim()}` : ''}; repair it (restic repair) and make a new backup`, details: tail(result) };
  },
};

// Runs zfs for an artifact, on this machine or on its host; commands both zfs-fuse and OpenZFS accept.
import type { SourceContext } from '../../src/contract/source.js';
import type { ProcessResult } from '../../src/exec/types.js';

/** Which datasets an artifact means. */
export interface ZfsOptions {
  dataset: string;
  /** Every dataset below `dataset` too: each must have a snapshot. */
  recursive?: boolean;
  /** A host from `hosts`: zfs runs there over SSH (a replication target). */
  host?: string;
}

/** How long one zfs command may take when the unit gives no timeout. */
export const ZFS_TIMEOUT_MS = 10 * 60_000;

/** Runs `zfs <args>` locally or on the host. */
export function runZfs(ctx: SourceContext<ZfsOptions>, args: string[], extra: { maxCaptureBytes?: number } = {}): Promise<ProcessResult> {
  return runTool(ctx, 'zfs', args, extra);
}

/** Runs `zpool <args>` locally or on the host. */
export function runZpool(ctx: SourceContext<ZfsOptions>, args: string[]): Promise<ProcessResult> {
  return runTool(ctx, 'zpool', args, {});
}

function runTool(ctx: SourceContext<ZfsOptions>, program: 'zfs' | 'zpool', args: string[], extra: { maxCaptureBytes?: number }): Promise<ProcessResult> {
  const spec = {
    argv: [program, ...args],
    env: ctx.env,
    timeoutMs: ctx.timeoutMs ?? ZFS_TIMEOUT_MS,
    killGraceMs: 10_000,
    signal: ctx.signal,
    label: program,
    ...extra,
  };
  return ctx.options.host !== undefined ? ctx.exec.runRemote(ctx.options.host, spec) : ctx.exec.run(spec);
}

/** The argv that lists the datasets and their snapshots with creation time and sizes in exact numbers. */
export function snapshotQuery(options: ZfsOptions): string[] {
  return ['get', '-Hp', '-r', ...(options.recursive ? [] : ['-d', '1']), '-o', 'name,property,value', 'creation,used,referenced', options.dataset];
}

/** Names the datasets for people: "zfs tank/db (recursive) on nas". */
export function describeDataset(options: ZfsOptions): string {
  return `zfs ${options.dataset}${options.recursive ? ' (recursive)' : ''}${options.host !== undefined ? ` on ${options.host}` : ''}`;
}


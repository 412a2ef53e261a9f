// A clone-and-check restore: the newest snapshot cloned read-only, its files copied into scratch, the clone destroyed.
import { lastLine } from '../../src/util/tail.js';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LocatedBackup, SourceContext, SourceOutcome } from '../../src/contract/source.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { runZfs, type ZfsOptions } from './command.js';

/** Restores the top dataset's snapshot (the first in the backup's id) into `dir`, or only its `include` paths. */
export async function restoreByClone(ctx: SourceContext<ZfsOptions>, backup: LocatedBackup, dir: string, include: readonly string[]): Promise<SourceOutcome> {
  if (ctx.options.host !== undefined) {
    return { ok: false, message: `a clone of a snapshot on ${ctx.options.host} cannot be read here; check it there with restore-test on that host, or use check: true (zfs send) from here` };
  }
  const snapshot = backup.id.split(' ')[0]!;
  const pool = snapshot.slice(0, snapshot.search(/[/@]/));
  // Named after this process and a random suffix, so two runs never touch each other's clone.
  const clone = `${pool}/rearguard-restore-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const mount = await mkdtemp(path.join(os.tmpdir(), 'rearguard-zfs-clone-'));
  try {
    const cloned = await runZfs(ctx, ['clone', '-o', `mountpoint=${mount}`, '-o', 'readonly=on', snapshot, clone]);
    if (!succeeded(cloned)) return { ok: false, message: `zfs clone of ${snapshot} failed (${describeFailure(cloned, 'its time limit')}): ${lastLine(cloned.output)}` };
    try {
      const entries = await readdir(mount);
      if (entries.length === 0) return { ok: false, message: `${snapshot} is empty: its clone holds no file` };
      const wanted = include.length > 0 ? include.map((item) => item.replace(/^\/+/, '')) : entries;
      for (const item of wanted) {
        if (ctx.signal.aborted) return { ok: false, message: `restore of ${snapshot} stopped: the run was aborted` };
        await cp(path.join(mount, item), path.join(dir, item), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, errorOnExist: true });
      }
      return { ok: true, message: `${snapshot} cloned read-only and ${include.length > 0 ? `${wanted.length} path(s)` : `${entries.length} top-level entr${entries.length === 1 ? 'y' : 'ies'}`} copied out` };
    } catch (error) {
      return { ok: false, message: `reading the clone of ${snapshot} failed: ${(error as Error).message}` };
    } finally {
      const destroyed = await runZfs({ ...ctx, signal: new AbortController().signal }, ['destroy', clone]);
      if (!succeeded(destroyed)) await runZfs({ ...ctx, signal: new AbortController().signal }, ['destroy', '-f', clone]);
    }
  } finally {
    // A clone that would not go away stays mounted read-only: rm then fails rather than reach into it.
    await rm(mount, { recursive: true, force: true }).catch(() => undefined);
  }
}

// Restores a backup through its source (a repository tool) into private scratch, then runs the rules on what came back.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactTarget, CheckContext, CheckOutcome } from '../../src/contract/check.js';
import type { BoundSource } from '../../src/contract/source.js';
import { formatBytes } from '../../src/util/size.js';
import { judgeRules, runRestoreRules, type RestoreOptions } from './run-rules.js';
import { bytesNeeded, checkScratchRoom, makeScratch, removeScratch } from './scratch.js';

/** Counts what a restore wrote: entries (files, folders, links) and the bytes of regular files. */
export async function measureTree(dir: string): Promise<{ entries: number; bytes: number }> {
  let entries = 0;
  let bytes = 0;
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      entries += 1;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) bytes += (await lstat(full)).size;
    }
  };
  await walk(dir);
  return { entries, bytes };
}

/** The restore of a backup whose source restores it (`restore` bound into the target by the engine). */
export async function restoreThroughSource(
  ctx: CheckContext<RestoreOptions>,
  target: ArtifactTarget,
  restore: NonNullable<BoundSource['restore']>,
): Promise<CheckOutcome> {
  const where = target.located?.location ?? target.pattern;
  const base = ctx.options.scratch ?? ctx.tempDir;
  // The backup's recorded size is what a full restore writes; an include list writes less.
  const noRoom = await checkScratchRoom(base, bytesNeeded(target.located?.bytes ?? 0, 0));
  if (noRoom) return { status: 'failed', message: noRoom };
  const scratch = await makeScratch(base);
  try {
    const restored = await restore(scratch, ctx.options.include ?? []);
    if (ctx.signal.aborted) return { status: 'failed', message: `restore of ${where} stopped: the run was aborted` };
    if (!restored.ok) {
      return { status: 'failed', message: `restoring ${where} failed: ${restored.message}`, ...(restored.details && { details: restored.details }) };
    }
    const tree = await measureTree(scratch);
    if (tree.entries === 0) {
      const scope = ctx.options.include && ctx.options.include.length > 0 ? ` (include: ${ctx.options.include.join(', ')})` : '';
      return { status: 'failed', message: `restoring ${where}${scope} wrote nothing: the backup holds nothing there, so nothing is proven restorable` };
    }
    const { outcomes, notes } = await runRestoreRules(ctx, ctx.options, scratch, target.unitTimeoutMs);
    if (ctx.signal.aborted) return { status: 'failed', message: `restore of ${where} stopped: the run was aborted` };
    const outcome = judgeRules(`${tree.entries} entries (${formatBytes(tree.bytes)}) of ${where}`, outcomes, notes);
    // What the source itself proved while restoring (a query on the restored server) goes into the details.
    return restored.message ? { ...outcome, details: [restored.message, ...(outcome.details ?? [])] } : outcome;
  } finally {
    await removeScratch(scratch);
  }
}

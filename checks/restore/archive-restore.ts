// Restores a local tar archive: scan, refuse unsafe entries, check room, extract into private scratch, run the rules.
import type { ArtifactTarget, CheckContext, CheckOutcome } from '../../src/contract/check.js';
import { formatBytes } from '../../src/util/size.js';
import { scanTar } from '../../src/util/tar-scan.js';
import { findUnsafeEntries } from './entry-policy.js';
import { extractInto } from './extract.js';
import { judgeRules, runRestoreRules, type RestoreOptions } from './run-rules.js';
import { bytesNeeded, checkScratchRoom, makeScratch, removeScratch } from './scratch.js';

const MAX_DETAILS = 30;

/** The restore of a backup that is a local archive file (`target.facts.file`). */
export async function restoreArchive(ctx: CheckContext<RestoreOptions>, target: ArtifactTarget): Promise<CheckOutcome> {
  const file = target.facts.file;
  if (!file) return { status: 'failed', message: 'no artifact file to restore' };
  const scan = await scanTar(file, ctx.signal);
  if (scan.error) return { status: 'failed', message: `${file} cannot be restored: ${scan.error}` };
  if (scan.entries.length === 0) return { status: 'failed', message: `${file} holds no entries: nothing to restore` };

  const refused = findUnsafeEntries(scan.entries);
  if (refused.length > 0) {
    const first = refused[0]!;
    return {
      status: 'failed',
      message: `refused to restore ${file}: ${refused.length} unsafe entr${refused.length === 1 ? 'y' : 'ies'}, first "${first.path}": ${first.reason}; nothing was extracted`,
      details: refused.slice(0, MAX_DETAILS).map((r) => `${r.path}: ${r.reason}`),
    };
  }

  const base = ctx.options.scratch ?? ctx.tempDir;
  const needed = bytesNeeded(scan.contentBytes, scan.entries.length);
  const noRoom = await checkScratchRoom(base, needed);
  if (noRoom) return { status: 'failed', message: noRoom };

  const scratch = await makeScratch(base);
  try {
    try {
      await extractInto(file, scratch, ctx.signal);
    } catch (error) {
      return { status: 'failed', message: `extracting ${file} failed: ${(error as Error).message}` };
    }
    const { outcomes, notes } = await runRestoreRules(ctx, scratch, target.unitTimeoutMs);
    if (ctx.signal.aborted) return { status: 'failed', message: `restore of ${file} stopped: the run was aborted` };
    return judgeRules(`${scan.entries.length} entries (${formatBytes(scan.contentBytes)})`, outcomes, notes);
  } finally {
    await removeScratch(scratch);
  }
}

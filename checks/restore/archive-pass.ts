// One read of an archive for checksum, archive and restore: raw bytes hashed, entries listed, the restore done on the stream.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ArtifactTarget, CheckContext, CheckOutcome } from '../../src/contract/check.js';
import type { TarEntryType } from '../../src/util/tar/entry.js';
import { readArchiveFile, type ReadArchiveResult } from '../../src/util/tar/read-archive.js';
import type { ArchivePassSpec } from './pass-spec.js';
import { startStreamRestore } from './stream-restore.js';

/** One entry as the archive check needs it: the name as stored (bytes) and as shown. */
export interface ScannedEntry {
  name: Buffer;
  displayName: string;
  type: TarEntryType;
  size: number;
}

/** What one read of the archive found, for each check that asked. */
export interface ArchivePass {
  readonly key: string;
  read: Omit<ReadArchiveResult, 'warnings'> & { warnings: string[] };
  entries: ScannedEntry[];
  /** Bytes of file contents once restored (sparse files at their full size). */
  contentBytes: number;
  /** The archive file's sha256, when asked and every byte of the file went through it. */
  sha256?: string;
  /** The restore check's outcome, when asked and the archive is restored as a local archive. */
  restore?: CheckOutcome;
}

/**
 * The read `spec` asks for: the one already in `target.facts` when it was made of this very file (same path,
 * size and mtime) for the same spec, otherwise a fresh read. Never throws for a bad archive.
 */
export async function obtainArchivePass(ctx: Omit<CheckContext<unknown>, 'options'>, target: ArtifactTarget, spec: ArchivePassSpec): Promise<ArchivePass> {
  const file = target.facts.file!;
  const info = await stat(file).catch(() => undefined);
  const restore = spec.restore !== undefined && target.source?.restore === undefined ? spec.restore : undefined;
  const key = JSON.stringify([file, info?.size ?? -1, info?.mtimeMs ?? -1, spec.sha256, restore ?? null]);
  const cached = target.facts.archivePass;
  if (cached?.key === key) return cached as ArchivePass;

  const hash = spec.sha256 ? createHash('sha256') : undefined;
  const entries: ScannedEntry[] = [];
  let contentBytes = 0;
  const restoring = restore === undefined ? undefined : await startStreamRestore(ctx, restore, file, target.unitTimeoutMs);
  const streaming = restoring !== undefined && 'onEntry' in restoring ? restoring : undefined;
  let read: ReadArchiveResult;
  try {
    read = await readArchiveFile(file, {
      signal: ctx.signal,
      ...(hash && { onRawChunk: (chunk: Buffer) => hash.update(chunk) }),
      onEntry: async (entry, content) => {
        entries.push({ name: entry.name, displayName: entry.displayName, type: entry.type, size: entry.size });
        if (entry.type === 'file') contentBytes += entry.size;
        await streaming?.onEntry(entry, content);
      },
    });
  } catch (error) {
    await streaming?.dispose();
    throw error;
  }
  const pass: ArchivePass = { key, read, entries, contentBytes };
  if (hash && read.rawComplete) pass.sha256 = hash.digest('hex');
  if (restoring !== undefined) pass.restore = streaming ? await streaming.finish(read, contentBytes) : (restoring as CheckOutcome);
  return pass;
}

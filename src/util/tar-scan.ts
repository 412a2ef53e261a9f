// Reads a tar or tar.gz to its very end with the tar package, listing entries; truncation and CRC errors surface here.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';

/** Entry types that hold file contents (the tar package's names). */
export const REGULAR_FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);

/** True for an entry whose data is a regular file's contents. */
export function isRegularFileEntry(entry: { type: string }): boolean {
  return REGULAR_FILE_TYPES.has(entry.type);
}

/** One entry as its header describes it. */
export interface TarEntryInfo {
  path: string;
  type: string;
  size: number;
  linkpath?: string;
}

/** What reading the whole archive found. */
export interface TarScan {
  entries: TarEntryInfo[];
  /** Total bytes of file contents once extracted. */
  contentBytes: number;
  /** Set when the archive could not be read to its end. */
  error?: string;
}

/** Reads every entry of `file` (gzip detected by its magic bytes); never throws for a bad archive. */
export async function scanTar(file: string, signal?: AbortSignal): Promise<TarScan> {
  const entries: TarEntryInfo[] = [];
  let contentBytes = 0;
  const warnings: string[] = [];
  const parser = new Parser({
    strict: true,
    onwarn: (code: string, message: string) => {
      warnings.push(`${code}: ${message}`);
    },
    onReadEntry: (entry: ReadEntry) => {
      const size = entry.size ?? 0;
      entries.push({
        path: entry.path,
        type: entry.type,
        size,
        ...(entry.linkpath ? { linkpath: entry.linkpath } : {}),
      });
      if (isRegularFileEntry(entry)) contentBytes += size;
      entry.resume();
    },
  });
  try {
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), parser, signal ? { signal } : {});
  } catch (error) {
    return { entries, contentBytes, error: describeTarError(error as NodeJS.ErrnoException, entries.length) };
  }
  if (warnings.length > 0) return { entries, contentBytes, error: warnings[0] };
  return { entries, contentBytes };
}

/** Turns tar and zlib errors into what happened to the archive. */
export function describeTarError(error: NodeJS.ErrnoException, entriesRead: number): string {
  const after = `after ${entriesRead} entr${entriesRead === 1 ? 'y' : 'ies'}`;
  const message = error.message.replace(/^TAR_[A-Z_]+: /, '');
  switch (error.code) {
    case 'ABORT_ERR':
      return 'stopped: the run was aborted';
    case 'Z_BUF_ERROR':
      return `the gzip stream ends early ${after} (truncated: ${error.message})`;
    case 'Z_DATA_ERROR':
      return `the gzip data is corrupted ${after} (${error.message})`;
    case 'TAR_BAD_ARCHIVE':
      if (/Unrecognized archive format/.test(message)) {
        return entriesRead === 0
          ? 'not a tar or tar.gz archive, or one that holds no entries (unrecognized format)'
          : `unreadable data ${after} (${message})`;
      }
      return /Truncated input/.test(message) ? `the archive ends early ${after} (truncated: ${message})` : `${message} ${after}`;
    case 'TAR_ENTRY_INVALID':
      return entriesRead === 0
        ? `not a tar or tar.gz archive: the first header is invalid (${message})`
        : `a header is corrupted ${after} (${message})`;
    default:
      return `${error.code ? `${error.code}: ` : ''}${message} ${after}`;
  }
}

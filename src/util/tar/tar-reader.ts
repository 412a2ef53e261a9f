// Reads tar members one by one from plain tar bytes, strictly: checksums, end-of-archive marker, every entry named.
import { ByteSource, isZero, SourceError } from './byte-source.js';
import type { EntryContent, TarEntry } from './entry.js';
import { displayName } from './display-name.js';
import { FieldError, headerChecksums, readNumber, readString } from './header-fields.js';
import { decodeMember, MemberError, type PendingExtensions } from './member.js';
import { parsePaxRecords, parsePaxInteger } from './pax.js';
import { checkSparseMap, expandSparse, parseSparseMapBlocks, readOldGnuSlots } from './sparse-map.js';

/** Receives each entry and may read its content once; what it leaves unread is skipped. */
export type EntryHandler = (entry: TarEntry, content: EntryContent) => Promise<void> | void;

/** What reading the tar stream found; `error` (with `errorOffset`) when it is not a complete, valid archive. */
export interface TarReadResult {
  entries: number;
  /** Bytes of tar data up to and including the end-of-archive marker (or up to the failure). */
  tarBytes: number;
  error?: string;
  /** True when the error came from the stream under the tar data (read or decompression), not the tar data. */
  sourceFailed?: boolean;
  /** Things GNU tar also accepts but mentions, e.g. a lone zero block at the end. */
  warnings: string[];
}

/** Extension headers (GNU long names, pax) bigger than this are refused rather than held in memory. */
const MAX_EXTENSION = 16 * 1024 * 1024;

class TarFormatError extends Error {}

/** Reads every member of the tar stream in `source`, handing each to `onEntry`. Errors of `onEntry` itself propagate. */
export async function readTar(source: ByteSource, onEntry?: EntryHandler): Promise<TarReadResult> {
  const warnings: string[] = [];
  let entries = 0;
  const where = (offset: number): string => `after ${entries} entr${entries === 1 ? 'y' : 'ies'}, at byte ${offset}`;
  try {
    let pending: PendingExtensions = { pax: new Map(), sparse00: [] };
    const globalPax = new Map<string, Buffer>();
    let firstHeader: number | undefined;
    for (;;) {
      const at = source.offset;
      const block = await source.readBlock();
      if (typeof block === 'number') {
        throw new TarFormatError(
          block === 0
            ? `the archive ends without its end-of-archive marker ${where(at)}: it was cut short (truncated)`
            : `the archive ends in the middle of a header ${where(at + block)} (truncated)`,
        );
      }
      if (isZero(block)) {
        if (firstHeader !== undefined) throw new TarFormatError(`the extension header at byte ${firstHeader} is not followed by its entry (${where(at)})`);
        const second = await source.readBlock();
        if (typeof second === 'number') {
          if (second !== 0) throw new TarFormatError(`the archive ends in the middle of its end-of-archive marker ${where(at + 512 + second)} (truncated)`);
          warnings.push(`a lone zero block at byte ${at} ends the archive, where two are expected (GNU tar accepts this with a warning)`);
          return { entries, tarBytes: source.offset, warnings };
        }
        if (isZero(second)) return { entries, tarBytes: source.offset, warnings };
        throw new TarFormatError(
          `a single zero block at byte ${at} is followed by more data (${where(at)}): GNU tar stops reading there, so the entries after it would be lost`,
        );
      }
      verifyChecksum(block, at, entries);
      const typeflag = String.fromCharCode(block[156]!);
      const size = readField(() => readNumber(block, 124, 12, 'size'), at, entries);
      firstHeader ??= at;
      if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g' || typeflag === 'X') {
        const data = await readExtension(source, size, at, where);
        if (typeflag === 'L' || typeflag === 'K') {
          const end = data.indexOf(0);
          const value = Buffer.from(end === -1 ? data : data.subarray(0, end));
          if (typeflag === 'L') pending.longName = value;
          else pending.longLink = value;
        } else {
          const records = parsePaxRecords(data);
          if (typeof records === 'string') throw new TarFormatError(`the pax header at byte ${at} is malformed: ${records} (${where(at)})`);
          for (const { key, value } of records) {
            const copy = Buffer.from(value);
            if (typeflag === 'g') globalPax.set(key, copy);
            else if (key === 'GNU.sparse.offset') pending.sparse00.push({ offset: parsePaxInteger(copy) ?? Number.NaN, length: 0 });
            else if (key === 'GNU.sparse.numbytes' && pending.sparse00.length > 0) pending.sparse00[pending.sparse00.length - 1]!.length = parsePaxInteger(copy) ?? Number.NaN;
            else pending.pax.set(key, copy);
          }
        }
        if (typeflag === 'g') firstHeader = undefined;
        continue;
      }
      if (typeflag === 'V') {
        // A volume label names the archive, not a member: GNU tar restores nothing for it.
        await skipData(source, size, at, where);
        firstHeader = undefined;
        continue;
      }
      const headerOffset = firstHeader;
      firstHeader = undefined;
      const merged: PendingExtensions = { ...pending, pax: new Map([...globalPax, ...pending.pax]) };
      pending = { pax: new Map(), sparse00: [] };
      let decoded;
      try {
        decoded = decodeMember(block, typeflag, merged);
      } catch (error) {
        if (error instanceof MemberError || error instanceof FieldError) throw new TarFormatError(`entry ${entries + 1} (${describeName(block, merged)}) ${error instanceof FieldError ? `has a bad header: its ${error.message}` : error.message} (${where(headerOffset)})`);
        throw error;
      }
      const entry: TarEntry = { ...decoded.entry, index: entries, headerOffset };
      const named = `entry ${entries + 1} ("${entry.displayName}")`;
      if (entry.name.length === 0 && entry.type !== 'directory') {
        throw new TarFormatError(`${named} has an empty name (GNU tar would write it over the restore folder itself as ".") (${where(headerOffset)})`);
      }
      let left = decoded.storedSize;
      if (decoded.sparseSource === 'old-gnu') {
        let more = readField(() => readOldGnuSlots(block, 386, 4, entry.sparse!.segments) && block[482] !== 0, at, entries);
        while (more) {
          const extension = await source.readBlock();
          if (typeof extension === 'number') throw new TarFormatError(`${named} ends in the middle of its sparse map (truncated, ${where(source.offset)})`);
          more = readField(() => readOldGnuSlots(extension, 0, 21, entry.sparse!.segments) && extension[504] !== 0, at, entries);
        }
      } else if (decoded.sparseSource === 'pax-1.0') {
        let text = '';
        for (;;) {
          if (left < 512) throw new TarFormatError(`${named} has a sparse map longer than its data (${where(source.offset)})`);
          const mapBlock = await source.readBlock();
          if (typeof mapBlock === 'number') throw new TarFormatError(`${named} ends in the middle of its sparse map (truncated, ${where(source.offset)})`);
          left -= 512;
          text += mapBlock.toString('latin1');
          const parsed = parseSparseMapBlocks(text);
          if (typeof parsed === 'string') throw new TarFormatError(`${named}: ${parsed} (${where(headerOffset)})`);
          if (parsed === undefined) continue;
          entry.sparse!.segments = parsed.segments;
          break;
        }
      }
      if (entry.sparse) {
        const problem = checkSparseMap(entry.sparse, left);
        if (problem) throw new TarFormatError(`${named} is a sparse file, but ${problem} (${where(headerOffset)})`);
      }
      const padding = (512 - (decoded.storedSize % 512)) % 512;
      let contentFailure: Error | undefined;
      async function* stored(): AsyncGenerator<Buffer> {
        while (left > 0) {
          let chunk: Buffer | undefined;
          try {
            chunk = await source.next(left);
          } catch (error) {
            contentFailure = error as Error;
            throw error;
          }
          if (chunk === undefined) {
            contentFailure = new TarFormatError(`${named} ends early: ${left} bytes of its content are missing (truncated, ${where(source.offset)})`);
            throw contentFailure;
          }
          left -= chunk.length;
          yield chunk;
        }
      }
      entries += 1;
      if (onEntry) {
        // Only files have content; what GNU tar skips after other headers is not handed out as theirs.
        const content = entry.type !== 'file' ? emptyContent() : entry.sparse ? expandSparse(entry.sparse, stored()) : stored();
        try {
          await onEntry(entry, content);
        } catch (error) {
          // The handler may have been stopped by our own failure while reading the content: report ours.
          if (contentFailure !== undefined) throw contentFailure;
          throw new HandlerError(error);
        }
      }
      // A handler that swallowed the failure still gets an archive that failed.
      if (contentFailure !== undefined) throw contentFailure;
      const missing = await source.skip(left + padding);
      if (missing > 0) throw new TarFormatError(`${named} ends early: its content is cut short (truncated, ${where(source.offset)})`);
    }
  } catch (error) {
    if (error instanceof HandlerError) throw error.cause;
    if (error instanceof TarFormatError) return { entries, tarBytes: source.offset, error: error.message, warnings };
    if (error instanceof SourceError) return { entries, tarBytes: source.offset, error: error.message, sourceFailed: true, warnings };
    throw error;
  }
}

async function* emptyContent(): AsyncGenerator<Buffer> {
  // Nothing to yield.
}

/** Wraps an error of the caller's handler so it is told apart from the archive's failures. */
class HandlerError extends Error {
  constructor(cause: unknown) {
    super('entry handler failed', { cause });
  }
}

function verifyChecksum(block: Buffer, at: number, entries: number): void {
  let stored: number;
  try {
    stored = readNumber(block, 148, 8, 'checksum');
  } catch {
    throw new TarFormatError(notTar(at, entries, 'its checksum field is not a number'));
  }
  const { unsigned, signed } = headerChecksums(block);
  if (stored !== unsigned && stored !== signed) throw new TarFormatError(notTar(at, entries, `its checksum is ${stored} but its bytes add up to ${unsigned}`));
}

function notTar(at: number, entries: number, why: string): string {
  return entries === 0 && at === 0
    ? `not a tar archive: the first block is not a tar header (${why})`
    : `the header at byte ${at} (after ${entries} entr${entries === 1 ? 'y' : 'ies'}) is corrupted: ${why}`;
}

function readField<T>(read: () => T, at: number, entries: number): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof FieldError) throw new TarFormatError(notTar(at, entries, `its ${error.message}`));
    throw error;
  }
}

async function readExtension(source: ByteSource, size: number, at: number, where: (offset: number) => string): Promise<Buffer> {
  if (size > MAX_EXTENSION) throw new TarFormatError(`the extension header at byte ${at} claims ${size} bytes, more than the ${MAX_EXTENSION} allowed (${where(at)})`);
  const data = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const chunk = await source.next(size - got);
    if (chunk === undefined) throw new TarFormatError(`the archive ends inside the extension header at byte ${at} (truncated, ${where(source.offset)})`);
    chunk.copy(data, got);
    got += chunk.length;
  }
  await skipData(source, (512 - (size % 512)) % 512, at, where);
  return data;
}

async function skipData(source: ByteSource, size: number, at: number, where: (offset: number) => string): Promise<void> {
  if ((await source.skip(size)) > 0) throw new TarFormatError(`the archive ends inside the header data at byte ${at} (truncated, ${where(source.offset)})`);
}

function describeName(block: Buffer, pending: PendingExtensions): string {
  return `"${displayName(pending.longName ?? pending.pax.get('path') ?? readString(block, 0, 100))}"`;
}

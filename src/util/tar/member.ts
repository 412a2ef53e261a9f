// Builds one TarEntry from its header block and the extensions before it (long names, pax records): pure.
import { displayName } from './display-name.js';
import type { TarEntry, TarEntryType } from './entry.js';
import { readNumber, readString } from './header-fields.js';
import { parsePaxInteger, parsePaxTime } from './pax.js';
import { parseSparseMapText, type SparseSegment } from './sparse-map.js';

/** Extension data gathered before a member's own header. */
export interface PendingExtensions {
  longName?: Buffer;
  longLink?: Buffer;
  /** Local pax records over global ones, last value of each key. */
  pax: Map<string, Buffer>;
  /** GNU.sparse.offset / numbytes pairs of pax sparse format 0.0, in order. */
  sparse00: SparseSegment[];
}

/** A member as decoded, before its content is read: how much is stored, and how the sparse map is found. */
export interface DecodedMember {
  entry: Omit<TarEntry, 'index' | 'headerOffset'>;
  /** Bytes stored after the header (the sparse map of format 1.0 included). */
  storedSize: number;
  /** 'old-gnu' reads its map from the header and extension blocks, 'pax-1.0' from the data. */
  sparseSource?: 'old-gnu' | 'pax-0' | 'pax-1.0';
}

/** Thrown with a plain-words reason when a member cannot be represented; the reader adds where it is. */
export class MemberError extends Error {}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  S: 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  D: 'directory',
  '6': 'fifo',
};

/** Decodes the member whose header is `block` (typeflag already known to be a member type). */
export function decodeMember(block: Buffer, typeflag: string, pending: PendingExtensions): DecodedMember {
  const pax = pending.pax;
  // As GNU tar tells them: POSIX by "ustar\0" (version unchecked), old GNU by all 8 bytes "ustar  \0".
  const magic = block.toString('latin1', 257, 263);
  const gnuMagic = block.toString('latin1', 257, 265) === 'ustar  \0';
  let name = pending.longName ?? pax.get('path') ?? readString(block, 0, 100);
  if (pending.longName === undefined && !pax.has('path') && magic === 'ustar\0') {
    const prefix = readString(block, 345, 155);
    if (prefix.length > 0) name = Buffer.concat([prefix, Buffer.from('/'), name]);
  }
  const sparseName = pax.get('GNU.sparse.name');
  if (sparseName !== undefined) name = sparseName;

  let type = TYPES[typeflag];
  if (type === undefined) throw new MemberError(`has the unknown entry type "${typeflag}" (byte 156 of its header)`);
  // A file whose name ends in "/" is a folder (old tars wrote folders so); GNU tar reads it the same way.
  if (type === 'file' && typeflag !== 'S' && name.length > 0 && name[name.length - 1] === 0x2f) type = 'directory';

  const headerSize = readNumber(block, 124, 12, 'size');
  const paxSize = pax.get('size');
  let size = headerSize;
  if (paxSize !== undefined) {
    const parsed = parsePaxInteger(paxSize);
    if (parsed === undefined) throw new MemberError(`has a pax size "${paxSize.toString('latin1')}" that is not a whole number`);
    size = parsed;
  }
  const hasData = typeflag === '0' || typeflag === '\0' || typeflag === '7' || typeflag === 'S' || typeflag === 'D';
  // GNU tar stores nothing after link, folder and device headers, whatever their size field says.
  const storedSize = hasData ? size : 0;

  let mtime = readNumber(block, 136, 12, 'mtime');
  const paxTime = pax.get('mtime');
  if (paxTime !== undefined) {
    const parsed = parsePaxTime(paxTime);
    if (parsed === undefined) {
      throw new MemberError(`has a malformed modification time in its pax header ("mtime=${paxTime.toString('latin1').slice(0, 40)}"; expected seconds like 1700000000.25)`);
    }
    mtime = parsed;
  }
  const uid = paxNumber(pax, 'uid') ?? readNumber(block, 108, 8, 'uid');
  const gid = paxNumber(pax, 'gid') ?? readNumber(block, 116, 8, 'gid');
  const mode = readNumber(block, 100, 8, 'mode') & 0o7777;

  const entry: DecodedMember['entry'] = { type, name, displayName: displayName(name), size: type === 'file' ? size : 0, mode, uid, gid, mtime };
  if (type === 'hardlink' || type === 'symlink') {
    const target = pending.longLink ?? pax.get('linkpath') ?? readString(block, 157, 100);
    entry.linkTarget = target;
    entry.displayLinkTarget = displayName(target);
  }
  const decoded: DecodedMember = { entry, storedSize };
  // GNU tar only reads a sparse map from headers of the format that defines it; anything else is ambiguous.
  if (typeflag === 'S') {
    if (!gnuMagic) throw new MemberError('has the GNU sparse type "S" but not the GNU header magic, so its data cannot be placed reliably');
    decoded.sparseSource = 'old-gnu';
    entry.sparse = { realSize: readNumber(block, 483, 12, 'sparse real size'), segments: [] };
  } else if (type === 'file') {
    decodePaxSparse(decoded, pending);
    if (decoded.sparseSource && magic !== 'ustar\0') throw new MemberError('has pax sparse records but is not a POSIX ustar header, so its data cannot be placed reliably');
  }
  if (entry.sparse) entry.size = entry.sparse.realSize;
  return decoded;
}

function decodePaxSparse(decoded: DecodedMember, pending: PendingExtensions): void {
  const pax = pending.pax;
  const major = pax.get('GNU.sparse.major')?.toString('latin1');
  const minor = pax.get('GNU.sparse.minor')?.toString('latin1');
  if (major !== undefined || minor !== undefined) {
    if (major !== '1' || minor !== '0') throw new MemberError(`uses GNU sparse format ${major}.${minor}, which this reader does not know`);
    const realSize = paxNumber(pax, 'GNU.sparse.realsize');
    if (realSize === undefined) throw new MemberError('is a sparse file (format 1.0) without GNU.sparse.realsize');
    decoded.sparseSource = 'pax-1.0';
    decoded.entry.sparse = { realSize, segments: [] };
    return;
  }
  const mapText = pax.get('GNU.sparse.map');
  const numBlocks = pax.get('GNU.sparse.numblocks');
  if (mapText === undefined && numBlocks === undefined) return;
  const realSize = paxNumber(pax, 'GNU.sparse.size') ?? paxNumber(pax, 'GNU.sparse.realsize');
  if (realSize === undefined) throw new MemberError('is a sparse file (format 0.x) without GNU.sparse.size');
  let segments: SparseSegment[] | undefined;
  if (mapText !== undefined) {
    segments = parseSparseMapText(mapText.toString('latin1'));
    if (segments === undefined) throw new MemberError('has a malformed GNU.sparse.map');
  } else {
    segments = pending.sparse00;
    if (segments.length !== paxNumber(pax, 'GNU.sparse.numblocks')) {
      throw new MemberError(`says GNU.sparse.numblocks=${numBlocks!.toString('latin1')} but lists ${segments.length} blocks`);
    }
  }
  decoded.sparseSource = 'pax-0';
  decoded.entry.sparse = { realSize, segments };
}

function paxNumber(pax: Map<string, Buffer>, key: string): number | undefined {
  const value = pax.get(key);
  if (value === undefined) return undefined;
  const parsed = parsePaxInteger(value);
  if (parsed === undefined) throw new MemberError(`has a pax ${key} "${value.toString('latin1').slice(0, 40)}" that is not a whole number`);
  return parsed;
}

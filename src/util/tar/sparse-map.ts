// Sparse files: the map of where data lies, read from old GNU headers and pax (formats 0.0, 0.1, 1.0), and checked.
import { readNumber } from './header-fields.js';

/** One stretch of real data in a sparse file. */
export interface SparseSegment {
  offset: number;
  length: number;
}

/** A sparse file's logical size and its data stretches, in order; everything else is holes (zeros). */
export interface SparseMap {
  realSize: number;
  segments: SparseSegment[];
}

/** Appends up to `count` old-GNU map slots (24 bytes each) at `start`; false once an empty slot ends the map. */
export function readOldGnuSlots(block: Buffer, start: number, count: number, into: SparseSegment[]): boolean {
  for (let i = 0; i < count; i += 1) {
    const at = start + i * 24;
    if (block[at] === 0) return false;
    into.push({ offset: readNumber(block, at, 12, 'sparse offset'), length: readNumber(block, at + 12, 12, 'sparse size') });
  }
  return true;
}

/** Parses GNU.sparse.map (format 0.1): "offset,size,offset,size,..."; undefined when malformed. */
export function parseSparseMapText(text: string): SparseSegment[] | undefined {
  if (text === '') return [];
  const parts = text.split(',');
  if (parts.length % 2 !== 0 || parts.some((part) => !/^[0-9]{1,16}$/.test(part))) return undefined;
  const segments: SparseSegment[] = [];
  for (let i = 0; i < parts.length; i += 2) segments.push({ offset: Number(parts[i]), length: Number(parts[i + 1]) });
  return segments;
}

/**
 * Parses the map that format 1.0 keeps at the start of the data: decimal numbers one per line (count, then
 * offset/size pairs), padded to whole blocks. Returns undefined until `text` holds the whole map, or a message.
 */
export function parseSparseMapBlocks(text: string): { segments: SparseSegment[]; mapBytes: number } | string | undefined {
  const lines: string[] = [];
  let pos = 0;
  let count: number | undefined;
  while (count === undefined || lines.length < 1 + count * 2) {
    const newline = text.indexOf('\n', pos);
    if (newline === -1) return text.length > 64 * 1024 * 1024 ? 'the sparse map is implausibly long' : undefined;
    const line = text.slice(pos, newline);
    if (!/^[0-9]{1,16}$/.test(line)) return `the sparse map holds "${line.slice(0, 40)}" where a number was expected`;
    lines.push(line);
    pos = newline + 1;
    if (count === undefined) count = Number(line);
  }
  const numbers = lines.slice(1).map(Number);
  const segments: SparseSegment[] = [];
  for (let i = 0; i < numbers.length; i += 2) segments.push({ offset: numbers[i]!, length: numbers[i + 1]! });
  return { segments, mapBytes: Math.ceil(pos / 512) * 512 };
}

/** Why `map` cannot describe a file whose stored data is `storedBytes` long; undefined when it is consistent. */
export function checkSparseMap(map: SparseMap, storedBytes: number): string | undefined {
  let end = 0;
  let data = 0;
  for (const segment of map.segments) {
    if (!Number.isSafeInteger(segment.offset) || !Number.isSafeInteger(segment.length)) return 'its sparse map holds a number too large';
    if (segment.offset < end) return `its sparse map is out of order or overlaps at offset ${segment.offset}`;
    end = segment.offset + segment.length;
    if (end > map.realSize) return `its sparse map reaches byte ${end}, past the file's size of ${map.realSize}`;
    data += segment.length;
  }
  if (data !== storedBytes) return `its sparse map lists ${data} bytes of data, but ${storedBytes} bytes are stored`;
  return undefined;
}

const ZEROS = Buffer.alloc(64 * 1024);

/** True for a chunk expandSparse made up for a hole (not stored data), so a writer can leave a hole there. */
export function isHoleChunk(chunk: Buffer): boolean {
  return chunk.buffer === ZEROS.buffer && chunk.byteOffset >= ZEROS.byteOffset && chunk.byteOffset < ZEROS.byteOffset + ZEROS.length;
}

/** Expands the stored data of a sparse file into its logical content: holes as zeros, `realSize` bytes in all. */
export async function* expandSparse(map: SparseMap, stored: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = stored[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let position = 0;
  for (const segment of map.segments) {
    yield* zeros(segment.offset - position);
    let left = segment.length;
    while (left > 0) {
      if (pending === undefined || pending.length === 0) {
        const next = await iterator.next();
        if (next.done) throw new Error('the stored data ended before the sparse map was filled');
        pending = next.value;
      }
      const part = pending.length <= left ? pending : pending.subarray(0, left);
      pending = pending.subarray(part.length);
      left -= part.length;
      yield part;
    }
    position = segment.offset + segment.length;
  }
  yield* zeros(map.realSize - position);
}

function* zeros(length: number): Generator<Buffer> {
  for (let left = length; left > 0; left -= ZEROS.length) yield left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left);
}

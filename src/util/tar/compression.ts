// Which compression a file uses, told by its first bytes (magic numbers), never by its name.
import type { StreamCompression } from '../../exec/decompress.js';

/** A stream's compression, or 'none' for plain bytes (a bare tar). */
export type Compression = StreamCompression | 'none';

/** Bytes needed to tell every known compression apart. */
export const MAGIC_BYTES = 6;

/** Names the compression whose magic number starts `head`; 'none' when none matches. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  // A zstd skippable frame (0x184D2A50..5F) may come first; the zstd program handles it.
  if (head.length >= 4 && (head.readUInt32LE(0) & 0xfffffff0) === 0x184d2a50) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz';
  if (head.length >= 4 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3]! >= 0x31 && head[3]! <= 0x39) {
    return 'bzip2';
  }
  return 'none';
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

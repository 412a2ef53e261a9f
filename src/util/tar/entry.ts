// What the reader reports for each archive member.
import type { SparseMap } from './sparse-map.js';

/** Kinds of members; anything else in an archive is a named failure of the reader. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'character-device' | 'block-device' | 'fifo';

/** One member of the archive, with every extension (long names, pax, sparse) already applied. */
export interface TarEntry {
  /** 0-based position among the archive's members. */
  index: number;
  /** Byte offset in the tar stream of its first header (a pax or long-name header when there is one). */
  headerOffset: number;
  type: TarEntryType;
  /** The name exactly as stored (bytes, not decoded). */
  name: Buffer;
  /** `name` for messages and reports: UTF-8 as is, other bytes as \xNN. */
  displayName: string;
  /** Target of a symbolic or hard link, as stored. */
  linkTarget?: Buffer;
  displayLinkTarget?: string;
  /** Logical size of the content (for sparse files, with the holes). 0 for links, folders and devices. */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, with a fraction when pax gave one. */
  mtime: number;
  /** Where the data of a sparse file lies; absent for a plain file. */
  sparse?: SparseMap;
}

/** An entry's content, read once as a stream of chunks (views: copy what must outlive the next chunk). */
export type EntryContent = AsyncIterable<Buffer>;

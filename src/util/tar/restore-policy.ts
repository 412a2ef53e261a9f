// Which entries may be restored, decided on names as bytes: nothing may land, link or point outside the restore folder.
import type { TarEntryType } from './entry.js';

const SLASH = 0x2f;
const MAX_LINK_HOPS = 40;

/** A name split into its path segments, or why it must not be restored. */
export type Segments = { segments: Buffer[]; key: string } | { refused: string };

/** Splits an in-archive name into segments ("" and "." dropped); refuses absolute names and "..". */
export function splitEntryName(name: Buffer): Segments {
  if (name[0] === SLASH) return { refused: 'absolute path' };
  if (name.length >= 2 && name[1] === 0x3a && /[A-Za-z]/.test(String.fromCharCode(name[0]!))) return { refused: 'absolute path (drive letter)' };
  if (name.includes(0x5c)) return { refused: 'name holds a backslash, which Windows-style paths use to climb out' };
  const segments: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= name.length; i += 1) {
    if (i < name.length && name[i] !== SLASH) continue;
    const part = name.subarray(start, i);
    start = i + 1;
    if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
    if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e) return { refused: 'path climbs out with ".."' };
    segments.push(part);
  }
  return { segments, key: keyOf(segments) };
}

/** A byte-exact map key for a list of segments (latin1 maps every byte to one char, so keys never merge). */
export function keyOf(segments: Buffer[]): string {
  return segments.map((part) => part.toString('latin1')).join('/');
}

/** Why an entry of this type is never restored; undefined for the types that are. */
export function refusedType(type: TarEntryType): string | undefined {
  if (type === 'fifo') return 'FIFO (named pipe)';
  if (type === 'character-device') return 'device file (CharacterDevice)';
  if (type === 'block-device') return 'device file (BlockDevice)';
  return undefined;
}

/**
 * Resolves `segments` inside the restored tree, following the symbolic links in `links` (key to target) the
 * way the kernel would once they exist on disk. Undefined when the path leaves the tree or links loop.
 */
export function resolveInTree(segments: Buffer[], links: Map<string, Buffer>): Buffer[] | undefined {
  const done: Buffer[] = [];
  const queue = [...segments];
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part.length === 0 || (part.length === 1 && part[0] === 0x2e)) continue;
    if (part.length === 2 && part[0] === 0x2e && part[1] === 0x2e) {
      if (done.length === 0) return undefined;
      done.pop();
      continue;
    }
    done.push(part);
    const target = links.get(keyOf(done));
    if (target === undefined) continue;
    hops += 1;
    if (hops > MAX_LINK_HOPS || target.length === 0 || target[0] === SLASH) return undefined;
    done.pop();
    queue.unshift(...splitRaw(target));
  }
  return done;
}

/** Splits link target bytes on "/" without dropping anything (".." must stay for resolveInTree). */
export function splitRaw(target: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= target.length; i += 1) {
    if (i === target.length || target[i] === SLASH) {
      parts.push(target.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}

/** The first proper prefix of `segments` that is a known symbolic link (writing there would follow it). */
export function linkPrefix(segments: Buffer[], links: Map<string, Buffer>): string | undefined {
  for (let i = 1; i < segments.length; i += 1) {
    const prefix = keyOf(segments.slice(0, i));
    if (links.has(prefix)) return prefix;
  }
  return undefined;
}

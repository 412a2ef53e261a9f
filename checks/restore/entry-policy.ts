// Which archive entries may be restored: nothing may land, link or point outside the scratch folder (pure).
import type { TarEntryInfo } from '../../src/util/tar-scan.js';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const ALLOWED_TYPES = new Set([...FILE_TYPES, 'Directory', 'SymbolicLink', 'Link']);
const MAX_LINK_HOPS = 40;

/** An entry refused, and why. */
export interface RefusedEntry {
  path: string;
  reason: string;
}

/** Splits an in-archive path into segments; undefined when it is absolute or climbs with "..". */
export function entrySegments(name: string): string[] | undefined {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.includes('\\') || name.includes('\0')) return undefined;
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  return parts.includes('..') ? undefined : parts;
}

/**
 * Resolves `segments` inside the archive's tree, following the archive's own symbolic links the way the
 * kernel would once they exist on disk. Undefined when the path leaves the tree (or links loop).
 */
function resolveInTree(segments: string[], links: Map<string, string>): string[] | undefined {
  const done: string[] = [];
  const queue = [...segments];
  let hops = 0;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (done.length === 0) return undefined;
      done.pop();
      continue;
    }
    done.push(part);
    const target = links.get(done.join('/'));
    if (target === undefined) continue;
    hops += 1;
    if (hops > MAX_LINK_HOPS || target.startsWith('/') || target === '') return undefined;
    done.pop();
    queue.unshift(...target.split('/'));
  }
  return done;
}

/** Lists every entry that must not be restored; an empty list means the archive is safe to extract. */
export function findUnsafeEntries(entries: TarEntryInfo[]): RefusedEntry[] {
  const refused: RefusedEntry[] = [];
  const links = new Map<string, string>();
  const files = new Set<string>();
  for (const entry of entries) {
    const segments = entrySegments(entry.path);
    if (segments === undefined) continue;
    const key = segments.join('/');
    if (entry.type === 'SymbolicLink' && entry.linkpath !== undefined) links.set(key, entry.linkpath);
    if (FILE_TYPES.has(entry.type)) files.add(key);
  }

  for (const entry of entries) {
    const refuse = (reason: string): void => {
      refused.push({ path: entry.path, reason });
    };
    const segments = entrySegments(entry.path);
    if (segments === undefined) {
      refuse(entry.path.startsWith('/') || /^[A-Za-z]:/.test(entry.path) ? 'absolute path' : 'path climbs out with ".."');
      continue;
    }
    if (!ALLOWED_TYPES.has(entry.type)) {
      refuse(
        entry.type === 'FIFO'
          ? 'FIFO (named pipe)'
          : entry.type === 'CharacterDevice' || entry.type === 'BlockDevice'
            ? `device file (${entry.type})`
            : `unsupported entry type ${entry.type}`,
      );
      continue;
    }
    // Writing through a symbolic link would put the file wherever the link points.
    for (let i = 1; i < segments.length; i += 1) {
      const prefix = segments.slice(0, i).join('/');
      if (links.has(prefix)) {
        refuse(`would be written through the symbolic link ${prefix}`);
        break;
      }
    }
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (target === '') refuse('symbolic link with an empty target');
      else if (target.startsWith('/')) refuse(`symbolic link to the absolute path ${target}`);
      else if (resolveInTree([...segments.slice(0, -1), ...target.split('/')], links) === undefined) {
        refuse(`symbolic link to ${target}, which points outside the restored tree`);
      }
    } else if (entry.type === 'Link') {
      const target = entry.linkpath === undefined ? undefined : entrySegments(entry.linkpath);
      const resolved = target === undefined ? undefined : resolveInTree(target, links);
      if (resolved === undefined) refuse(`hard link to ${entry.linkpath ?? '(nothing)'}, outside the restored tree`);
      else if (!files.has(resolved.join('/'))) refuse(`hard link to ${entry.linkpath}, which is not a file in the archive`);
    }
  }
  return refused;
}

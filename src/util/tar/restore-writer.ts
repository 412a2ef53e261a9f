// Writes chosen archive entries into a scratch folder safely: names as bytes, no escapes, no silent merges, holes kept.
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, symlink, unlink, utimes } from 'node:fs/promises';
import { displayName } from './display-name.js';
import type { EntryContent, TarEntry, TarEntryType } from './entry.js';
import { keyOf, linkPrefix, refusedType, resolveInTree, splitEntryName, splitRaw } from './restore-policy.js';
import { isHoleChunk } from './sparse-map.js';

/** An entry that was not restored as the archive describes it, and why. */
export interface RestoreProblem {
  /** The entry's name, escaped for display. */
  name: string;
  kind: 'refused' | 'collision';
  reason: string;
}

/** What a restore wrote. `problems` empty means every selected entry is on disk as the archive says. */
export interface RestoreSummary {
  written: number;
  /** Logical bytes of the files written (holes counted). */
  bytes: number;
  problems: RestoreProblem[];
}

/** Where and what to restore. */
export interface RestoreWriterOptions {
  /** An existing, empty folder; nothing is written outside it. */
  dir: string;
  /** Which entries to write (default all); the others are still checked, so collisions and links stay known. */
  select?: (entry: TarEntry) => boolean;
}

/** Receives entries in archive order (`write` as a readArchive onEntry), then `finish` once. */
export interface RestoreWriter {
  write(entry: TarEntry, content: EntryContent): Promise<void>;
  /** Problems found so far (links that escape through later links are found only by `finish`). */
  problemCount(): number;
  finish(): Promise<RestoreSummary>;
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Starts a restore into `options.dir`. Failures to write (disk full, permissions) reject `write`. */
export function createRestoreWriter(options: RestoreWriterOptions): RestoreWriter {
  const root = Buffer.from(options.dir);
  const seen = new Map<string, { type: TarEntryType | 'implied'; index: number }>();
  const links = new Map<string, Buffer>();
  const written = new Set<string>();
  const createdLinks: { key: string; segments: Buffer[]; entry: string }[] = [];
  const folders: { path: Buffer; mode: number; mtime: number }[] = [];
  const problems: RestoreProblem[] = [];
  let count = 0;
  let bytes = 0;
  const pathOf = (segments: Buffer[]): Buffer => Buffer.concat([root, ...segments.flatMap((part) => [SLASH_BUFFER, part])]);

  async function ensureParents(segments: Buffer[]): Promise<void> {
    // Folders the archive implies but does not list get what GNU tar gives them: 0777 less the umask.
    if (segments.length > 1) await mkdir(pathOf(segments.slice(0, -1)), { recursive: true, mode: 0o777 });
  }

  async function write(entry: TarEntry, content: EntryContent): Promise<void> {
    const refuse = (reason: string, kind: RestoreProblem['kind'] = 'refused'): void => {
      problems.push({ name: entry.displayName, kind, reason });
    };
    const split = splitEntryName(entry.name);
    if ('refused' in split) return refuse(split.refused);
    const typeRefusal = refusedType(entry.type);
    if (typeRefusal) return refuse(typeRefusal);
    const { segments, key } = split;
    const through = linkPrefix(segments, links);
    if (through !== undefined) return refuse(`would be written through the symbolic link ${displayName(Buffer.from(through, 'latin1'))}`);
    const before = seen.get(key);
    if (before !== undefined && !(entry.type === 'directory' && (before.type === 'directory' || before.type === 'implied'))) {
      const what = before.index < 0 ? 'a folder other entries are in' : `entry ${before.index + 1}`;
      return refuse(`lands on the same path as ${what}; restoring both would lose one`, 'collision');
    }
    if (segments.length === 0 && entry.type !== 'directory') return refuse('names the restore folder itself');
    if (entry.type !== 'directory' && endsLikeFolder(entry.name)) return refuse('is not a folder, but its name ends in "/" or "/." as a folder\'s does');
    for (let i = 1; i < segments.length; i += 1) {
      const prefix = keyOf(segments.slice(0, i));
      const holder = seen.get(prefix);
      if (holder === undefined) seen.set(prefix, { type: 'implied', index: -1 });
      else if (holder.type !== 'directory' && holder.type !== 'implied') {
        return refuse(`lies inside ${displayName(Buffer.from(prefix, 'latin1'))}, which entry ${holder.index + 1} made something other than a folder`, 'collision');
      }
    }
    seen.set(key, { type: entry.type, index: entry.index });
    if (entry.type === 'symlink') {
      const target = entry.linkTarget ?? Buffer.alloc(0);
      if (target.length === 0) return refuse('symbolic link with an empty target');
      if (target[0] === 0x2f) return refuse(`symbolic link to the absolute path ${entry.displayLinkTarget}`);
      if (resolveInTree([...segments.slice(0, -1), ...splitRaw(target)], links) === undefined) {
        return refuse(`symbolic link to ${entry.displayLinkTarget}, which points outside the restored tree`);
      }
      links.set(key, target);
    }
    let linkSource: Buffer[] | undefined;
    if (entry.type === 'hardlink') {
      const target = splitEntryName(entry.linkTarget ?? Buffer.alloc(0));
      const resolved = 'refused' in target ? undefined : resolveInTree(target.segments, links);
      if (resolved === undefined) return refuse(`hard link to ${entry.displayLinkTarget}, outside the restored tree`);
      const resolvedKey = keyOf(resolved);
      if (seen.get(resolvedKey)?.type !== 'file') return refuse(`hard link to ${entry.displayLinkTarget}, which is not a file stored before it in the archive`);
      if (options.select && options.select(entry) && !written.has(resolvedKey)) {
        return refuse(`hard link to ${entry.displayLinkTarget}, which was not selected for restore`);
      }
      linkSource = resolved;
      seen.set(key, { type: 'file', index: entry.index });
    }
    if (options.select && !options.select(entry)) return;

    const path = pathOf(segments);
    await ensureParents(segments);
    try {
      if (entry.type === 'directory') {
        if (segments.length > 0) await mkdir(path, { recursive: true, mode: 0o700 });
        folders.push({ path, mode: (entry.mode & 0o777) | 0o700, mtime: entry.mtime });
      } else if (entry.type === 'symlink') {
        await symlink(entry.linkTarget!, path);
        createdLinks.push({ key, segments, entry: entry.displayName });
      } else if (entry.type === 'hardlink') {
        await link(pathOf(linkSource!), path);
        written.add(key);
      } else {
        await writeFile(path, entry, content);
        written.add(key);
        bytes += entry.size;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return refuse('lands on a path that already exists (names that differ only where the file system cannot tell them apart)', 'collision');
      throw new Error(`could not restore ${entry.displayName}: ${(error as Error).message}`, { cause: error });
    }
    count += 1;
  }

  async function finish(): Promise<RestoreSummary> {
    // A link judged safe when it was written may point outside through a link that came later: remove it now.
    for (const created of createdLinks) {
      const target = links.get(created.key)!;
      if (resolveInTree([...created.segments.slice(0, -1), ...splitRaw(target)], links) === undefined) {
        await unlink(pathOf(created.segments));
        problems.push({ name: created.entry, kind: 'refused', reason: `symbolic link to ${displayName(target)}, which points outside the restored tree` });
      }
    }
    // Folder modes last and deepest first, so a read-only folder does not block what goes inside it.
    for (const folder of folders.reverse()) {
      await chmod(folder.path, folder.mode);
      await utimes(folder.path, folder.mtime, folder.mtime);
    }
    return { written: count, bytes, problems };
  }

  return { write, finish, problemCount: () => problems.length };
}

const SLASH_BUFFER = Buffer.from('/');

/** True when the last segment of `name` is empty or ".": such a name can only be a folder. */
function endsLikeFolder(name: Buffer): boolean {
  const last = name.lastIndexOf(0x2f);
  const tail = name.subarray(last + 1);
  return last !== -1 && (tail.length === 0 || (tail.length === 1 && tail[0] === 0x2e));
}

/** Writes a file's content; stretches that are holes in a sparse entry are skipped, then the size is set. */
async function writeFile(path: Buffer, entry: TarEntry, content: EntryContent): Promise<void> {
  const handle = await open(path, WRITE_FLAGS, 0o600);
  try {
    let position = 0;
    for await (const chunk of content) {
      if (!(entry.sparse && isHoleChunk(chunk))) await handle.write(chunk, 0, chunk.length, position);
      position += chunk.length;
    }
    if (entry.sparse) await handle.truncate(position);
    await handle.chmod((entry.mode & 0o777) | 0o600);
    await handle.utimes(entry.mtime, entry.mtime);
  } finally {
    await handle.close();
  }
}

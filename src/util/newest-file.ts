// The newest regular file matching a glob, found by streaming directory entries: no list of matches is held,
// folders that cannot hold a match are never opened, and only matching files (and symbolic links) are stat-ed.
// Symbolic links to files and folders are followed, as the glob did; a link back up the tree is not entered twice.
import { lstatSync, opendirSync, realpathSync, statSync, type Dir, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { loadPicomatch } from './picomatch.js';

/** The file a glob resolves to: the newest regular file by mtime. */
export interface NewestFile {
  file: string;
  bytes: number;
  mtimeMs: number;
}

/** Counts of the work done, for tests and benchmarks. */
export interface NewestFileCounters {
  directories: number;
  entries: number;
  stats: number;
}

/** How to search. */
export interface NewestFileOptions {
  /** Folder a relative pattern is taken from (default: process.cwd()). */
  cwd?: string;
  signal?: AbortSignal;
  /** Incremented as the search goes. */
  counters?: NewestFileCounters;
}

// The same matching options tinyglobby gives picomatch for { dot: true } (what the file source used before).
const MATCH = { dot: true, posix: true } as const;

/** Longest stretch of synchronous file system calls before the event loop gets a turn. */
const SLICE_MS = 4;

interface Folder {
  abs: string;
  rel: string;
  /** Real path of this folder. */
  real: string;
  /** Real paths of the folders each symlinked folder on the way down was entered from; a link back to one loops. */
  chain: string[];
}

/** Whether `a` should win over `b` among files of equal mtime: a deterministic choice, not the order of readdir. */
function winsTie(a: string, b: string): boolean {
  // Names of backups usually carry their time, so the greater name is the later one; the same file reached
  // through a symlinked folder has the same name and more segments, and the direct path is the one to report.
  const nameA = path.basename(a);
  const nameB = path.basename(b);
  if (nameA !== nameB) return nameA > nameB;
  const depthA = a.split('/').length;
  const depthB = b.split('/').length;
  if (depthA !== depthB) return depthA < depthB;
  return a < b;
}

/**
 * True when `pattern` holds none of the characters picomatch reads as glob syntax (wildcards, classes, braces,
 * extglobs, negation, escapes): it names one path as it is, and picomatch need not be loaded to say so.
 */
export function isPlainPath(pattern: string): boolean {
  return !/[*?[\]{}()!+@\\]/.test(pattern);
}

/** A test for folders: can a path below `rel` still match? (tinyglobby's partial matcher, for one pattern.) */
function partialMatcher(glob: string): (rel: string) => boolean {
  const parts = loadPicomatch().scan(glob, { parts: true }).parts ?? [glob];
  const matchers = parts.map((part) => loadPicomatch()(part, MATCH));
  return (rel) => {
    const segments = rel.split('/');
    const n = Math.min(segments.length, parts.length);
    let j = 0;
    for (; j < n; j += 1) {
      const part = parts[j]!;
      if (part.includes('/')) return true; // a brace holding a slash: cannot be judged part by part
      if (!matchers[j]!(segments[j]!)) break;
      if (part === '**') return true;
    }
    return j === segments.length;
  };
}

/** Finds the newest regular file matching `pattern` (dot files included, symlinks followed), or undefined. */
export async function findNewestFile(pattern: string, options: NewestFileOptions = {}): Promise<NewestFile | undefined> {
  const counters = options.counters ?? { directories: 0, entries: 0, stats: 0 };
  const { signal } = options;
  signal?.throwIfAborted();
  const absolute = path.resolve(options.cwd ?? process.cwd(), pattern);
  if (isPlainPath(absolute)) return statFile(absolute, counters);
  const scan = loadPicomatch().scan(absolute);
  if (!scan.isGlob) return statFile(absolute.replace(/\\/g, ''), counters);
  const root = scan.base.replace(/\\/g, '') || '/';
  const matches = loadPicomatch()(scan.glob, MATCH);
  const mayHoldMatches = partialMatcher(scan.glob);

  let newest: NewestFile | undefined;
  const consider = (found: NewestFile | undefined): void => {
    if (!found) return;
    if (!newest || found.mtimeMs > newest.mtimeMs || (found.mtimeMs === newest.mtimeMs && winsTie(found.file, newest.file))) newest = found;
  };
  // Synchronous calls in short slices: measured, a stat through the promise API costs several times a statSync
  // here, and a slice of a few milliseconds keeps timers and signals on time (a slow NFS stat included).
  let sliceStart = performance.now();
  const pause = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    sliceStart = performance.now();
  };

  const rootReal = realOrUndefined(root);
  if (rootReal === undefined) return undefined;
  const stack: Folder[] = [{ abs: root, rel: '', real: rootReal, chain: [] }];
  while (stack.length > 0) {
    const folder = stack.pop()!;
    let dir: Dir;
    try {
      dir = opendirSync(folder.abs, { bufferSize: 256 });
    } catch {
      continue; // an unreadable folder is skipped, as the glob did
    }
    counters.directories += 1;
    try {
      for (let entry = dir.readSync(); entry !== null; entry = dir.readSync()) {
        if (performance.now() - sliceStart >= SLICE_MS) await pause();
        counters.entries += 1;
        const rel = folder.rel ? `${folder.rel}/${entry.name}` : entry.name;
        const abs = joinPath(folder.abs, entry.name);
        const kind = kindOf(entry) ?? kindOfInode(abs);
        if (kind === 'directory') {
          if (mayHoldMatches(rel)) stack.push({ abs, rel, real: joinPath(folder.real, entry.name), chain: folder.chain });
        } else if (kind === 'file') {
          if (matches(rel)) consider(statFile(abs, counters));
        } else if (kind === 'link' && (matches(rel) || mayHoldMatches(rel))) {
          // A link is followed only when its path could matter.
          counters.stats += 1;
          const target = statOrUndefined(abs, statSync);
          if (target?.isFile()) {
            if (matches(rel)) consider({ file: abs, bytes: target.size, mtimeMs: target.mtimeMs });
          } else if (target?.isDirectory() && mayHoldMatches(rel)) {
            const real = realOrUndefined(abs);
            const chain = [...folder.chain, folder.real];
            if (real !== undefined && !chain.some((up) => up === real || up.startsWith(`${real}/`))) stack.push({ abs, rel, real, chain });
          }
        }
      }
    } catch (error) {
      if (signal?.aborted) throw error;
      // A folder that fails while being read is treated like an unreadable one.
    } finally {
      dir.closeSync();
    }
  }
  return newest;
}

function realOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

function joinPath(folder: string, name: string): string {
  return folder === '/' ? `/${name}` : `${folder}/${name}`;
}

function kindOf(entry: Dirent): 'directory' | 'file' | 'link' | 'other' | undefined {
  if (entry.isDirectory()) return 'directory';
  if (entry.isFile()) return 'file';
  if (entry.isSymbolicLink()) return 'link';
  if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) return 'other';
  return undefined; // some filesystems do not say the type in the directory entry
}

function kindOfInode(abs: string): 'directory' | 'file' | 'link' | 'other' {
  const info = statOrUndefined(abs, lstatSync);
  if (info?.isDirectory()) return 'directory';
  if (info?.isFile()) return 'file';
  if (info?.isSymbolicLink()) return 'link';
  return 'other';
}

function statFile(file: string, counters: NewestFileCounters): NewestFile | undefined {
  counters.stats += 1;
  const info = statOrUndefined(file, statSync);
  return info?.isFile() ? { file, bytes: info.size, mtimeMs: info.mtimeMs } : undefined;
}

function statOrUndefined(file: string, how: typeof statSync): Stats | undefined {
  try {
    return how(file, { throwIfNoEntry: false });
  } catch {
    return undefined; // gone, EACCES on a folder on the way, ELOOP: not an entry this search can use
  }
}

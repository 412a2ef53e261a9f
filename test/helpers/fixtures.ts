// Builders of real backup files in temp dirs: SQLite databases (sound or corrupted) and tar archives (sound, truncated, evil).
import { ARTIFACT_KINDS } from '../../src/cli/artifact-kinds.js';
import { normalizeArtifact } from '../../src/config/normalize.js';
import type { CommandName, ResolvedArtifact } from '../../src/config/types.js';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import type { ArtifactTarget, CheckContext } from '../../src/contract/check.js';
import { createExec } from '../../src/exec/index.js';
import { openTestDb } from './sqlite-db.js';

/** Options of makeSqlite. */
export interface SqliteFixture {
  rows?: number;
  /** Leave the file in WAL mode (header bytes 18/19 = 2), as live application databases are. */
  wal?: boolean;
  /** 'page': overwrite a b-tree page in the middle; 'header': overwrite the magic string. */
  corrupt?: 'page' | 'header';
}

/** Writes a SQLite database with a table, an index and `rows` rows; optionally corrupts it. */
export async function makeSqlite(file: string, options: SqliteFixture = {}): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  const db = openTestDb(file);
  db.exec(options.wal ? 'PRAGMA journal_mode = WAL' : 'PRAGMA journal_mode = DELETE');
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)');
  db.exec('CREATE INDEX notes_title ON notes (title)');
  db.transaction(() => {
    for (let i = 0; i < (options.rows ?? 400); i += 1) db.run('INSERT INTO notes (title, body) VALUES (?, ?)', `title ${i}`, `body ${i} `.repeat(20));
  });
  db.close();
  if (options.corrupt) await corruptSqlite(file, options.corrupt);
  return file;
}

async function corruptSqlite(file: string, how: 'page' | 'header'): Promise<void> {
  const bytes = await readFile(file);
  if (how === 'header') {
    bytes.write('NotSQLite format', 0, 'latin1');
  } else {
    // Page 3 onwards holds table and index pages; scramble the cell area of a page in the middle.
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    const pages = bytes.length / pageSize;
    const page = Math.max(3, Math.floor(pages / 2));
    const start = (page - 1) * pageSize;
    for (let i = 8; i < 200; i += 1) bytes[start + i] = (i * 37) & 0xff;
  }
  await writeFile(file, bytes);
}

/** One entry of a raw tar archive; types are tar's names ('File', 'SymbolicLink', 'Link', 'FIFO', 'CharacterDevice', ...). */
export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice' | 'BlockDevice';
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
}

/** Options of makeTar: entries as a list, or a map of file path → content. */
export interface TarFixture {
  entries: TarEntry[] | Record<string, string | Buffer>;
  /** Gzip the archive (default true). */
  gzip?: boolean;
  /** Keep only this fraction of the bytes (0 < x < 1): a truncated upload. */
  truncateAt?: number;
  /** Flip a byte of the gzip CRC trailer: valid deflate data, wrong checksum. */
  corruptCrc?: boolean;
}

/**
 * Writes a tar (or tar.gz) byte by byte with tar's Header encoder, so archives a normal tar tool
 * would never produce (absolute paths, "..", devices, links out) can be built for tests.
 */
export async function makeTar(file: string, options: TarFixture): Promise<string> {
  const entries: TarEntry[] = Array.isArray(options.entries)
    ? options.entries
    : Object.entries(options.entries).map(([p, body]) => ({ path: p, body }));
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? 'File';
    const body = entry.body === undefined ? Buffer.alloc(0) : Buffer.from(entry.body);
    const header = new Header({
      path: entry.path,
      type,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      size: type === 'File' ? body.length : 0,
      mtime: new Date('2026-01-01T00:00:00Z'),
      uid: 1000,
      gid: 1000,
      ...(entry.linkpath !== undefined && { linkpath: entry.linkpath }),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  let bytes: Buffer = Buffer.concat(blocks);
  if (options.gzip ?? true) bytes = gzipSync(bytes);
  if (options.corruptCrc) {
    // The gzip trailer is CRC32 (4 bytes) then ISIZE (4 bytes).
    const at = bytes.length - 8;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  }
  if (options.truncateAt !== undefined) bytes = bytes.subarray(0, Math.floor(bytes.length * options.truncateAt));
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return file;
}

/** A gzip file of `content`, optionally truncated: for the restore gzip rule. */
export function gzipBytes(content: string | Buffer, options: { truncateAt?: number } = {}): Buffer {
  const bytes = gzipSync(Buffer.from(content));
  return options.truncateAt === undefined ? bytes : bytes.subarray(0, Math.floor(bytes.length * options.truncateAt));
}

/** sha256sum-format text for the given files (name → content). */
export function sha256Sums(files: Record<string, string | Buffer>): string {
  return Object.entries(files)
    .map(([name, content]) => `${createHash('sha256').update(content).digest('hex')}  ${name}\n`)
    .join('');
}

/** Bytes of a small valid SQLite database, to put inside archives. */
export async function sqliteBytes(dir: string, options: SqliteFixture = {}): Promise<Buffer> {
  const file = path.join(dir, `inner-${Math.random().toString(36).slice(2)}.db`);
  await makeSqlite(file, options);
  return readFile(file);
}

/** A real check context (local processes, system temp dir) for calling a check's run() directly. */
export function makeCheckContext<Options>(
  options: Options,
  overrides: Partial<Omit<CheckContext<Options>, 'options'>> = {},
): CheckContext<Options> {
  return {
    options,
    command: 'verify',
    runId: '20261121T000000Z-0000',
    exec: createExec({ hosts: {}, stateDir: os.tmpdir() }),
    signal: new AbortController().signal,
    hosts: {},
    systemctl: ['systemctl'],
    tempDir: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    now: Date.now,
    ...overrides,
  };
}

/** The target of a check on `file`, as exists would leave it. */
export async function makeTarget(file: string, overrides: Partial<ArtifactTarget> = {}): Promise<ArtifactTarget> {
  const info = await stat(file);
  return {
    unit: 'test-unit',
    pattern: file,
    unitTimeoutMs: 30_000,
    located: { id: file, location: file, completedAtMs: info.mtimeMs, bytes: info.size, file },
    facts: { file, bytes: info.size, mtimeMs: info.mtimeMs },
    history: { read: async () => [] },
    ...overrides,
  };
}

/** A ResolvedArtifact from config as written (`{ path: 'x', max_age: '1h' }`), resolved by the real registries' fragments. */
export function artifactFrom(raw: Record<string, unknown>): ResolvedArtifact {
  return normalizeArtifact(raw, (raw.level as ResolvedArtifact['level'] | undefined) ?? 'error', ARTIFACT_KINDS, (p) => p);
}

/** What `check` selects for an artifact written as `raw` under `command`, as the plan asks it. */
export function selectFor<Options>(
  check: { config?: { key: string }; select(own: never, artifact: ResolvedArtifact, command: CommandName): { options: Options; level: string } | undefined },
  raw: Record<string, unknown>,
  command: CommandName,
): { options: Options; level: string } | undefined {
  const artifact = artifactFrom(raw);
  return check.select((check.config ? artifact.options[check.config.key] : undefined) as never, artifact, command);
}

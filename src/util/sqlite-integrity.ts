// SQLite integrity: header first, then PRAGMA integrity_check on a read-only connection in a worker thread.
import { onAbort } from './abort-hub.js';
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdtemp, open, rm, stat, statfs } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { formatDuration } from './duration.js';
import { formatBytes } from './size.js';
import { SQLITE_DRIVER_SOURCE } from './sqlite-driver-source.js';

/** The 16 bytes every SQLite 3 database starts with. */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/** The verdict on one database file. */
export interface SqliteIntegrity {
  ok: boolean;
  message: string;
  /** The first problems integrity_check reported, or notes. */
  details?: string[];
}

/** How to check. */
export interface SqliteIntegrityOptions {
  /** Where a private copy of a WAL-mode database is made, so nothing appears beside the original. */
  tempDir: string;
  signal: AbortSignal;
  timeoutMs: number;
  /** The file lives in rearguard's own scratch space: -wal/-shm files may appear beside it. */
  inScratch?: boolean;
  /** Problems kept in details (integrity_check stops after this many). */
  maxProblems?: number;
}

const requireFromHere = createRequire(import.meta.url);

// CommonJS source of the worker: integrity_check can take minutes on a large file and must not block the event loop.
const WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
${SQLITE_DRIVER_SOURCE}
let db;
try {
  db = driver.open(workerData.file, { readonly: true });
  const rows = driver.column(db, 'PRAGMA integrity_check(' + workerData.max + ')');
  parentPort.postMessage({ rows });
} catch (error) {
  const { message, code } = driver.describe(error);
  parentPort.postMessage({ error: message, code });
} finally {
  try { if (db) driver.close(db); } catch {}
}
`;

/** Reads the first 100 bytes (the database header) and says whether the file is SQLite 3 and in WAL mode. */
export async function readSqliteHeader(file: string): Promise<{ isSqlite: boolean; wal: boolean; found: string }> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(100);
    const { bytesRead } = await handle.read(header, 0, 100, 0);
    const magic = header.subarray(0, Math.min(16, bytesRead));
    const isSqlite = bytesRead >= 100 && magic.equals(SQLITE_MAGIC);
    // Bytes 18 and 19 are the file format read/write versions: 2 means WAL.
    const wal = isSqlite && (header[18] === 2 || header[19] === 2);
    return { isSqlite, wal, found: printable(magic) };
  } finally {
    await handle.close();
  }
}

function printable(bytes: Buffer): string {
  return [...bytes].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
}

/** Checks one SQLite file: header, then `PRAGMA integrity_check` must answer exactly "ok". */
export async function checkSqliteIntegrity(file: string, options: SqliteIntegrityOptions): Promise<SqliteIntegrity> {
  let header;
  try {
    header = await readSqliteHeader(file);
  } catch (error) {
    return { ok: false, message: `cannot read ${file}: ${(error as Error).message}` };
  }
  if (!header.isSqlite) {
    return {
      ok: false,
      message: `${file} is not a SQLite database: expected the header "SQLite format 3\\x00", found "${header.found}"`,
    };
  }
  const details: string[] = [];
  const wal = `${file}-wal`;
  const walBytes = await stat(wal).then((s) => s.size, () => 0);
  if (walBytes > 0 && !options.inScratch) {
    details.push(`${wal} (${formatBytes(walBytes)}) lies beside the backup; its frames are not part of the checked file`);
  }
  // A read-only connection to a WAL-mode database creates -wal/-shm beside it (and cannot remove them).
  // Check a private copy whose header says "rollback journal" instead, so the backup folder is never touched.
  let copyDir: string | undefined;
  let target = file;
  try {
    if (header.wal && !options.inScratch) {
      const prepared = await prepareWalCopy(file, options.tempDir);
      if ('problem' in prepared) return { ok: false, message: prepared.problem, ...(details.length > 0 && { details }) };
      copyDir = prepared.dir;
      target = prepared.file;
      details.push('WAL-mode database: checked a private copy so that no -wal/-shm file appears beside it');
    }
    const result = await runIntegrityWorker(target, options);
    if ('failure' in result) return { ok: false, message: `${file}: ${result.failure}`, ...(details.length > 0 && { details }) };
    const rows = result.rows;
    if (rows.length === 1 && rows[0] === 'ok') {
      return { ok: true, message: `${path.basename(file)}: integrity_check ok`, ...(details.length > 0 && { details }) };
    }
    const max = options.maxProblems ?? 10;
    return {
      ok: false,
      message: `${file} is corrupted: integrity_check reported ${rows.length >= 100 ? '100 or more' : rows.length} problem(s), first: ${rows[0] ?? '(none)'}`,
      details: [...rows.slice(0, max), ...details],
    };
  } finally {
    if (copyDir) await rm(copyDir, { recursive: true, force: true });
  }
}

async function prepareWalCopy(file: string, tempDir: string): Promise<{ dir: string; file: string } | { problem: string }> {
  const bytes = (await stat(file)).size;
  const free = await statfs(tempDir).then((s) => s.bavail * s.bsize, () => undefined);
  if (free !== undefined && free < bytes) {
    return {
      problem: `${file} is in WAL mode and is checked on a private copy, but ${tempDir} has ${formatBytes(free)} free and the copy needs ${formatBytes(bytes)}; point TMPDIR at a larger filesystem`,
    };
  }
  const dir = await mkdtemp(path.join(tempDir, 'rearguard-sqlite-'));
  const copy = path.join(dir, 'check.sqlite');
  await copyFile(file, copy, fsConstants.COPYFILE_FICLONE);
  const handle = await open(copy, 'r+');
  try {
    await handle.write(Buffer.from([1, 1]), 0, 2, 18);
  } finally {
    await handle.close();
  }
  return { dir, file: copy };
}

function runIntegrityWorker(
  file: string,
  options: SqliteIntegrityOptions,
): Promise<{ rows: string[] } | { failure: string }> {
  return new Promise((resolve) => {
    if (options.signal.aborted) return resolve({ failure: 'integrity_check not run: the run was aborted' });
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, betterSqlite3: requireFromHere.resolve('better-sqlite3'), max: 100 },
    });
    let settled = false;
    const finish = (value: { rows: string[] } | { failure: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      offAbort();
      void worker.terminate();
      resolve(value);
    };
    const timer = setTimeout(
      () => finish({ failure: `integrity_check did not finish within ${formatDuration(options.timeoutMs)} (the unit's timeout)` }),
      options.timeoutMs,
    );
    const offAbort = onAbort(options.signal, () => finish({ failure: 'integrity_check stopped: the run was aborted' }));
    worker.once('message', (message: { rows?: string[]; error?: string; code?: string }) => {
      if (message.rows) finish({ rows: message.rows });
      else finish({ failure: `SQLite refused to read it (${message.code ?? 'error'}: ${message.error ?? 'unknown'}); the file is corrupted` });
    });
    worker.once('error', (error) => finish({ failure: `integrity_check could not run: ${error.message}` }));
    worker.once('exit', (code) => finish({ failure: `integrity_check worker exited with ${code} before answering` }));
  });
}

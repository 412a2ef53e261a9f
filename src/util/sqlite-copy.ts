// Copies a live SQLite database with SQLite's backup API, in a short-lived worker thread: the event loop stays
// free while a large database is copied, and the driver's objects live and die with the worker
// (sqlite-driver-source.ts says which driver is used and why).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { onAbort } from './abort-hub.js';
import { SQLITE_DRIVER_SOURCE } from './sqlite-driver-source.js';

/** How a copy ended. */
export type SqliteCopyResult =
  | { ok: true; totalPages: number; steps: number; oneStep: boolean }
  | { ok: false; stopped?: 'timeout' | 'aborted'; message: string; code?: string };

const requireFromHere = createRequire(import.meta.url);

// Pages copied per step; a writer that keeps changing pages restarts the backup, so after a budget of
// steps the rest is copied in one step (a consistent snapshot, briefly holding the read lock).
const WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
${SQLITE_DRIVER_SOURCE}
let db;
(async () => {
  try {
    db = driver.open(workerData.source, { readonly: true, timeoutMs: 5000 });
    const copied = await driver.backup(db, workerData.temp, { pages: workerData.pages, budget: workerData.budget });
    driver.close(db);
    db = undefined;
    // The copy carries the source's WAL flag; a standalone backup reads best as a rollback-journal file.
    const copy = driver.open(workerData.temp, { readonly: false });
    try { driver.exec(copy, 'PRAGMA journal_mode = DELETE'); } finally { driver.close(copy); }
    parentPort.postMessage({ ok: true, totalPages: copied.totalPages, steps: copied.steps, oneStep: copied.oneStep });
  } catch (error) {
    try { if (db) driver.close(db); } catch {}
    const { message, code } = driver.describe(error);
    parentPort.postMessage({ ok: false, message, code });
  }
})();
`;

/** Copies `source` to `temp`; stops (terminating the worker) when `signal` aborts or `deadline` (epoch ms) passes. */
export function copySqlite(source: string, temp: string, options: { signal: AbortSignal; deadline: number; pagesPerStep: number; stepBudget: number }): Promise<SqliteCopyResult> {
  return new Promise((resolve) => {
    if (options.signal.aborted) return resolve({ ok: false, stopped: 'aborted', message: 'the run was aborted' });
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source, temp, betterSqlite3: requireFromHere.resolve('better-sqlite3'), pages: options.pagesPerStep, budget: options.stepBudget },
    });
    let settled = false;
    const finish = (result: SqliteCopyResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      offAbort();
      // Terminated after every answer: its objects are released by the worker's teardown, not by a later GC.
      void worker.terminate().then(() => resolve(result));
    };
    const timer = setTimeout(() => finish({ ok: false, stopped: 'timeout', message: 'timed out' }), Math.max(0, options.deadline - Date.now()));
    const offAbort = onAbort(options.signal, () => finish({ ok: false, stopped: 'aborted', message: 'the run was aborted' }));
    worker.once('message', (message: SqliteCopyResult) => finish(message));
    worker.once('error', (error) => finish({ ok: false, message: error.message }));
    worker.once('exit', (code) => finish({ ok: false, message: `the copy worker exited with ${code} before answering` }));
  });
}

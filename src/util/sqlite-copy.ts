// Copies a live SQLite database with SQLite's backup API, in a short-lived worker thread.
//
// Why a worker: better-sqlite3 12 on Node 24.19+ aborts the whole process when the garbage collector
// finalizes one of its objects ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook).
// Objects made in a worker that is terminated when its work is done are released by the worker's
// own teardown instead, which is safe; the integrity check has always run this way. It also keeps
// the event loop free while a large database is copied.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { onAbort } from './abort-hub.js';

/** How a copy ended. */
export type SqliteCopyResult =
  | { ok: true; totalPages: number; steps: number; oneStep: boolean }
  | { ok: false; stopped?: 'timeout' | 'aborted'; message: string; code?: string };

const requireFromHere = createRequire(import.meta.url);

// Pages copied per step; a writer that keeps changing pages restarts the backup, so after a budget of
// steps the rest is copied in one step (a consistent snapshot, briefly holding the read lock).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
(async () => {
  try {
    db = new Database(workerData.source, { readonly: true, fileMustExist: true, timeout: 5000 });
    let steps = 0;
    let oneStep = false;
    const progress = await db.backup(workerData.temp, {
      progress: ({ totalPages }) => {
        steps += 1;
        if (steps > workerData.budget * Math.ceil(totalPages / workerData.pages) + 2) oneStep = true;
        return oneStep ? 0x7fffffff : workerData.pages;
      },
    });
    db.close();
    db = undefined;
    // The copy carries the source's WAL flag; a standalone backup reads best as a rollback-journal file.
    const copy = new Database(workerData.temp, { fileMustExist: true });
    try { copy.exec('PRAGMA journal_mode = DELETE'); } finally { copy.close(); }
    parentPort.postMessage({ ok: true, totalPages: progress.totalPages, steps: steps + 1, oneStep });
  } catch (error) {
    try { if (db) db.close(); } catch {}
    parentPort.postMessage({ ok: false, message: String((error && error.message) || error), code: error && error.code });
  }
})();
`;

/** Copies `source` to `temp`; stops (terminating the worker) when `signal` aborts or `deadline` (epoch ms) passes. */
export function copySqlite(source: string, temp: string, options: { signal: AbortSignal; deadline: number; pagesPerStep: number; stepBudget: number }): Promise<SqliteCopyResult> {
  return new Promise((resolve) => {
    if (options.signal.aborted) return resolve({ ok: false, stopped: 'aborted', message: 'the run was aborted' });
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source, temp, module: requireFromHere.resolve('better-sqlite3'), pages: options.pagesPerStep, budget: options.stepBudget },
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

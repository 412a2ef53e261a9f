// The SQLite driver seen by the worker threads that read and copy databases, kept as a CommonJS string
// (see hash-worker-source.ts for why workers are strings).
//
// Which driver: Node's own `node:sqlite` where it has everything needed (the online backup API arrived in
// 22.16 and 23.8), else `better-sqlite3`. On Node 24, better-sqlite3 12 is not safe: built against 24.19 or
// newer headers, it aborts the whole process ("Assertion failed: (env) != nullptr" in
// RemoveEnvironmentCleanupHook) whenever the garbage collector finalizes one of its objects outside a
// JavaScript context. node:sqlite has no such object lifetime problem, so Node 24 never loads better-sqlite3,
// and Node 20 (which has no node:sqlite) keeps using it.

/**
 * Defines `driver` in the worker: `{ name, open(file, { readonly, timeoutMs }), column(db, sql),
 * exec(db, sql), backup(db, dest, { pages, budget }), close(db), describe(error) }`.
 * Expects `workerData.betterSqlite3` to hold the resolved path of better-sqlite3.
 */
export const SQLITE_DRIVER_SOURCE = String.raw`
function loadNodeSqlite() {
  // node:sqlite announces itself with an ExperimentalWarning when first loaded: that one warning is not
  // shown (it says nothing about the backup being checked); every other warning goes through as usual.
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
    if (type === 'ExperimentalWarning' && /SQLite/.test(String(warning && warning.message || warning))) return;
    return emitWarning.call(process, warning, ...rest);
  };
  try {
    const sqlite = require('node:sqlite');
    return typeof sqlite.backup === 'function' && typeof sqlite.DatabaseSync === 'function' ? sqlite : undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

// SQLite's primary result codes, so that both drivers name an error the same way.
const SQLITE_CODES = {
  1: 'SQLITE_ERROR', 2: 'SQLITE_INTERNAL', 3: 'SQLITE_PERM', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM', 8: 'SQLITE_READONLY', 9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND', 13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL', 16: 'SQLITE_EMPTY',
  17: 'SQLITE_SCHEMA', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS', 23: 'SQLITE_AUTH', 24: 'SQLITE_FORMAT', 25: 'SQLITE_RANGE', 26: 'SQLITE_NOTADB',
};

// Pages per step for the last step of a copy that kept being restarted: everything at once.
const ALL_PAGES = 0x7fffffff;

function nodeSqliteDriver(sqlite) {
  return {
    name: 'node:sqlite',
    open(file, options) {
      return new sqlite.DatabaseSync(file, { readOnly: Boolean(options.readonly), timeout: options.timeoutMs || 0 });
    },
    column(db, sql) {
      return db.prepare(sql).all().map((row) => Object.values(row)[0]);
    },
    exec(db, sql) {
      db.exec(sql);
    },
    async backup(db, dest, options) {
      // The page count per step is fixed for one call: when a writer keeps restarting the copy past its
      // budget, the call is stopped and the copy is made again in one step, from one snapshot.
      let steps = 0;
      let limit = Infinity;
      const stop = new Error('step budget spent');
      try {
        const totalPages = await sqlite.backup(db, dest, {
          rate: options.pages,
          progress: ({ totalPages }) => {
            steps += 1;
            if (limit === Infinity) limit = options.budget * Math.ceil(totalPages / options.pages) + 2;
            if (steps > limit) throw stop;
          },
        });
        return { totalPages, steps: steps + 1, oneStep: false };
      } catch (error) {
        if (error !== stop) throw error;
      }
      const totalPages = await sqlite.backup(db, dest, { rate: ALL_PAGES });
      return { totalPages, steps: steps + 1, oneStep: true };
    },
    close(db) {
      if (db.isOpen !== false) db.close();
    },
    describe(error) {
      const errcode = error && typeof error.errcode === 'number' ? error.errcode : undefined;
      const code = errcode === undefined ? error && error.code : SQLITE_CODES[errcode & 0xff] || 'SQLITE_' + errcode;
      return { message: String((error && (error.errstr || error.message)) || error), code };
    },
  };
}

function betterSqlite3Driver(Database) {
  return {
    name: 'better-sqlite3',
    open(file, options) {
      return new Database(file, { readonly: Boolean(options.readonly), fileMustExist: true, timeout: options.timeoutMs || 0 });
    },
    column(db, sql) {
      return db.prepare(sql).pluck().all();
    },
    exec(db, sql) {
      db.exec(sql);
    },
    async backup(db, dest, options) {
      let steps = 0;
      let oneStep = false;
      const progress = await db.backup(dest, {
        progress: ({ totalPages }) => {
          steps += 1;
          if (steps > options.budget * Math.ceil(totalPages / options.pages) + 2) oneStep = true;
          return oneStep ? ALL_PAGES : options.pages;
        },
      });
      return { totalPages: progress.totalPages, steps: steps + 1, oneStep };
    },
    close(db) {
      if (db.open) db.close();
    },
    describe(error) {
      return { message: String((error && error.message) || error), code: error && error.code };
    },
  };
}

const nodeSqlite = loadNodeSqlite();
const driver = nodeSqlite ? nodeSqliteDriver(nodeSqlite) : betterSqlite3Driver(require(workerData.betterSqlite3));
`;

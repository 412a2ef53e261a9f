// The tests' own SQLite handle, for building and reading databases: the same driver choice as the workers in
// src/util/sqlite-driver-source.ts. Where node:sqlite has the backup API (Node 22.16+, 23.8+, 24) it is used and
// better-sqlite3 is never loaded: on Node 24.19+ better-sqlite3 12 aborts whichever process the collector
// finalizes one of its objects in, and the test processes are such processes. Elsewhere (Node 20, early 22),
// better-sqlite3, loaded only then.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The few operations the tests need, the same on both drivers. */
export interface TestDb {
  exec(sql: string): void;
  /** Runs one statement with positional parameters. */
  run(sql: string, ...params: Array<string | number>): void;
  /** Runs `fn` in one transaction: repeated `run` calls inside are one commit. */
  transaction(fn: () => void): void;
  /** The first column of the first row. */
  value(sql: string): unknown;
  close(): void;
}

/**
 * True where node:sqlite can do all the workers need, found the way the workers find it: it loads, and it has
 * the online backup API (Node 22.16+, 23.8+, 24).
 */
export function nodeSqliteComplete(): boolean {
  complete ??= quietly(() => {
    try {
      const sqlite = require('node:sqlite') as { backup?: unknown; DatabaseSync?: unknown };
      return typeof sqlite.backup === 'function' && typeof sqlite.DatabaseSync === 'function';
    } catch {
      return false;
    }
  });
  return complete;
}
let complete: boolean | undefined;

/** The path of better-sqlite3, for child processes that load it themselves on Node versions without node:sqlite. */
export function betterSqlite3Path(): string {
  return require.resolve('better-sqlite3');
}

interface Statement {
  run(...params: Array<string | number>): unknown;
  get(): unknown;
}
interface Handle {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

export function openTestDb(file: string, options: { readonly?: boolean } = {}): TestDb {
  let db: Handle;
  if (nodeSqliteComplete()) {
    const { DatabaseSync } = quietly(() => require('node:sqlite') as { DatabaseSync: new (file: string, options: object) => Handle });
    db = new DatabaseSync(file, { readOnly: Boolean(options.readonly) });
  } else {
    const Database = require('better-sqlite3') as new (file: string, options: object) => Handle;
    db = new Database(file, { readonly: Boolean(options.readonly) });
  }
  const statements = new Map<string, Statement>();
  const prepared = (sql: string): Statement => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  return {
    exec: (sql) => db.exec(sql),
    run: (sql, ...params) => void prepared(sql).run(...params),
    transaction(fn) {
      db.exec('BEGIN');
      try {
        fn();
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    value(sql) {
      const row = prepared(sql).get() as Record<string, unknown> | undefined;
      return row === undefined ? undefined : Object.values(row)[0];
    },
    close() {
      statements.clear();
      db.close();
    },
  };
}

// node:sqlite's one ExperimentalWarning on load says nothing about the test; every other warning still shows.
function quietly<T>(load: () => T): T {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'ExperimentalWarning' && /SQLite/.test(String(warning))) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = emitWarning;
  }
}

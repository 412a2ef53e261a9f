// Loaded before every test file (vitest setupFiles). Where node:sqlite is complete (Node 22.16+, 23.8+, 24),
// nothing in a test process may load better-sqlite3: on Node 24.19+ its native objects abort the process when
// the collector finalizes them, at a moment no test chooses. Loading it there fails at once, naming the cause,
// instead of aborting some later, unrelated test.
import { nodeSqliteComplete } from './sqlite-db.js';

if (nodeSqliteComplete()) {
  const dlopen = process.dlopen.bind(process);
  process.dlopen = (module: { exports: unknown }, filename: string, ...rest: unknown[]) => {
    if (/better_sqlite3\.node$/.test(filename)) {
      throw new Error(`better-sqlite3 must not be loaded on Node ${process.versions.node}: use openTestDb (test/helpers/sqlite-db.ts)`);
    }
    (dlopen as (...args: unknown[]) => void)(module, filename, ...rest);
  };
}

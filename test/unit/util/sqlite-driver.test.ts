// Which SQLite driver the worker threads load: node:sqlite where it has the backup API, better-sqlite3 elsewhere.
// Node 24 must never load better-sqlite3 12: built against 24.19+ headers it aborts the process when the
// collector finalizes one of its objects. CI runs this under Node 20, 22 and 24, so each branch is taken.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SQLITE_DRIVER_SOURCE } from '../../../src/util/sqlite-driver-source.js';

function driverName(): Promise<string> {
  const source = `const { parentPort, workerData } = require('node:worker_threads');\n${SQLITE_DRIVER_SOURCE}\nparentPort.postMessage(driver.name);`;
  const worker = new Worker(source, { eval: true, workerData: { betterSqlite3: createRequire(import.meta.url).resolve('better-sqlite3') } });
  return new Promise((resolve, reject) => {
    worker.once('message', (name: string) => void worker.terminate().then(() => resolve(name)));
    worker.once('error', reject);
  });
}

function hasNodeSqliteBackup(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 8) || (major === 22 && minor >= 16);
}

describe('the SQLite driver of the worker threads', () => {
  it(`is ${hasNodeSqliteBackup() ? 'node:sqlite' : 'better-sqlite3'} on Node ${process.versions.node}`, async () => {
    expect(await driverName()).toBe(hasNodeSqliteBackup() ? 'node:sqlite' : 'better-sqlite3');
  });
});

describe('the test processes themselves', () => {
  it(`${hasNodeSqliteBackup() ? 'refuse' : 'may'} to load better-sqlite3 on Node ${process.versions.node}`, () => {
    const open = (): void => {
      const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => { close(): void };
      new Database(':memory:').close();
    };
    if (hasNodeSqliteBackup()) expect(open).toThrow(/must not be loaded on Node/);
    else expect(open).not.toThrow();
  });
});

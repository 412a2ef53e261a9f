// The sqlite check on real database files: sound, corrupted pages, wrong header, WAL mode left untouched.
import { readdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteCheck } from '../../../checks/sqlite.js';
import { makeCheckContext, makeSqlite, makeTarget, selectFor } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function runOn(file: string) {
  return sqliteCheck.run(makeCheckContext({}, { tempDir: ws.file('tmp') }), await makeTarget(file));
}

describe('sqlite check', () => {
  beforeEach(async () => {
    await ws.write('tmp/.keep', '');
  });

  it('passes a sound database', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'));
    const outcome = await runOn(file);
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toContain('integrity_check ok');
  });

  it('fails a database with a corrupted page and reports what integrity_check found', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'), { corrupt: 'page' });
    const outcome = await runOn(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/corrupted|malformed/);
    expect(outcome.details?.length ?? 0).toBeGreaterThan(0);
  });

  it('fails a file whose header is not SQLite, naming the header', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'), { corrupt: 'header' });
    const outcome = await runOn(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('is not a SQLite database: expected the header "SQLite format 3\\x00", found "NotSQLite format"');
  });

  it('fails a text file before opening it', async () => {
    const file = await ws.write('backups/dump.sqlite3', 'CREATE TABLE t (x);\n'.repeat(20));
    const outcome = await runOn(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('is not a SQLite database');
  });

  it('checks a WAL-mode database without creating -wal or -shm beside it, and leaves no temp copy', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'), { wal: true });
    expect(await readdir(ws.file('backups'))).toEqual(['db.sqlite3']);
    const outcome = await runOn(file);
    expect(outcome.status).toBe('ok');
    expect(await readdir(ws.file('backups'))).toEqual(['db.sqlite3']);
    expect(await readdir(ws.file('tmp'))).toEqual(['.keep']);
  });

  it('checks a rollback-journal database without creating any file beside it', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'));
    await runOn(file);
    expect(await readdir(ws.file('backups'))).toEqual(['db.sqlite3']);
  });

  it('finds corruption in a WAL-mode database too', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'), { wal: true, corrupt: 'page' });
    const outcome = await runOn(file);
    expect(outcome.status).toBe('failed');
    expect(await readdir(ws.file('backups'))).toEqual(['db.sqlite3']);
  });

  it('notes a non-empty -wal file lying beside the backup', async () => {
    const file = await makeSqlite(ws.file('backups/db.sqlite3'));
    await writeFile(`${file}-wal`, Buffer.alloc(4096, 1));
    const outcome = await runOn(file);
    expect(outcome.status).toBe('ok');
    expect(outcome.details?.join('\n')).toContain('db.sqlite3-wal');
  });

  it('applies to every command that has the option', () => {
    expect(selectFor(sqliteCheck, { path: 'x', sqlite: { level: 'warning' } }, 'restore-test')).toEqual({ options: {}, level: 'warning' });
    expect(selectFor(sqliteCheck, { path: 'x', sqlite: false }, 'verify')).toBeUndefined();
    expect(selectFor(sqliteCheck, { path: 'x' }, 'verify')).toBeUndefined();
  });
});

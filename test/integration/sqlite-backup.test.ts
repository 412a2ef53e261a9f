// sqlite_backup units through the CLI: an online copy while a real writer keeps inserting in WAL mode.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { makeSqlite } from '../helpers/fixtures.js';
import { betterSqlite3Path, nodeSqliteComplete, openTestDb } from '../helpers/sqlite-db.js';

// A separate process, as the application would be: inserts one row per transaction until killed. It opens the
// database with the same driver the tests use (argv[1] is 'node:sqlite' or the path of better-sqlite3).
const WRITER = `
const driver = process.argv[1];
const db = driver === 'node:sqlite'
  ? new (require('node:sqlite').DatabaseSync)(process.argv[2], { timeout: 5000 })
  : new (require(driver))(process.argv[2], { timeout: 5000 });
db.exec('PRAGMA journal_mode = WAL');
const insert = db.prepare('INSERT INTO notes (title, body) VALUES (?, ?)');
let n = 0;
setInterval(() => { for (let i = 0; i < 20; i += 1) insert.run('live ' + n++, 'written during the backup '.repeat(8)); }, 2);
console.log('writing');
`;

let ws: Workspace;
let writer: ResultPromise | undefined;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  writer?.kill('SIGKILL');
  await writer?.catch(() => undefined);
  writer = undefined;
  await ws.cleanup();
});

function countRows(file: string): number {
  const db = openTestDb(file, { readonly: true });
  try {
    return db.value('SELECT count(*) FROM notes') as number;
  } finally {
    db.close();
  }
}

async function startWriter(file: string): Promise<void> {
  writer = execa(process.execPath, ['--no-warnings', '-e', WRITER, nodeSqliteComplete() ? 'node:sqlite' : betterSqlite3Path(), file], {
    reject: false,
    buffer: false,
  });
  await new Promise<void>((resolve, reject) => {
    writer!.stdout!.once('data', () => resolve());
    writer!.once('exit', () => reject(new Error('the writer exited before writing')));
  });
}

const config = (dest: string, timeout = '1m'): string => `version: 1
stages:
  - name: db
    units:
      - name: app-db
        sqlite_backup: { source: data/app.db, dest: "${dest}" }
        timeout: ${timeout}
        artifacts:
          - path: backups/db-*.sqlite3
            sqlite: true
`;

describe('sqlite_backup units', () => {
  it('copies a database while a writer keeps inserting, and the copy passes integrity_check', async () => {
    const source = await makeSqlite(ws.file('data/app.db'), { wal: true, rows: 20_000 });
    await startWriter(source);
    await ws.write('rearguard.yml', config('backups/db-{timestamp}.sqlite3'));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    const report = await ws.readJson('r.json');
    const unit = report.stages[0].units[0];
    expect(unit.message).toMatch(/^copied .*app\.db to .*db-\d{8}T\d{6}Z\.sqlite3 \(.+\), integrity_check ok; 1 artifact\(s\) verified$/);
    expect(result.exitCode).toBe(0);
    expect(result.verdictLine).toMatch(/^verdict: ok/);
    expect(unit.artifacts[0].checks.map((c: any) => [c.id, c.status])).toEqual([
      ['exists', 'ok'],
      ['fresh', 'ok'],
      ['sqlite', 'ok'],
    ]);
    // Only the finished copy is left: no temp file, no -wal/-shm, and it stands alone in rollback-journal mode.
    const files = await readdir(ws.file('backups'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^db-\d{8}T\d{6}Z\.sqlite3$/);
    const copy = ws.file(`backups/${files[0]}`);
    expect(countRows(copy)).toBeGreaterThanOrEqual(20_000);
    const db = openTestDb(copy, { readonly: true });
    expect(db.value('PRAGMA journal_mode')).toBe('delete');
    db.close();
    // The writer was never blocked: it kept inserting during and after the copy.
    await new Promise((r) => setTimeout(r, 100));
    expect(countRows(source)).toBeGreaterThan(countRows(copy));
  });

  it('refuses a dest without {timestamp}, saying how to fix it', async () => {
    await makeSqlite(ws.file('data/app.db'));
    await ws.write('rearguard.yml', config('backups/db.sqlite3'));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('failed');
    expect(unit.message).toContain('sqlite_backup.dest must contain {timestamp}');
    expect(existsSync(ws.file('backups/db.sqlite3'))).toBe(false);
  });

  it('fails when the source is missing', async () => {
    await ws.write('rearguard.yml', config('backups/db-{timestamp}.sqlite3'));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.message).toMatch(/sqlite_backup\.source .*data\/app\.db is not a file/);
  });

  it('stops at the unit timeout and leaves no partial copy behind', async () => {
    await makeSqlite(ws.file('data/app.db'), { rows: 20_000 });
    await ws.write('rearguard.yml', config('backups/db-{timestamp}.sqlite3', '1ms'));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    expect(unit.status).toBe('timeout');
    expect(unit.message).toContain('the partial copy was removed');
    expect(await readdir(ws.file('backups'))).toEqual([]);
  });
});

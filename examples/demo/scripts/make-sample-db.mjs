// Creates the demo's sample SQLite database (examples/demo/data/app.db) if it is missing.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';

const file = process.argv[2] ?? new URL('../data/app.db', import.meta.url).pathname;
if (!existsSync(file)) {
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO notes (title, body, created_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 200; i += 1) insert.run(`note ${i}`, `body of note ${i} `.repeat(10), new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString());
  })();
  db.close();
  console.log(`created ${file}`);
}

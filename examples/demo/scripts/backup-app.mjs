// Demo backup script: tars an application folder into <dest>/app-<timestamp>.tar.gz with a sha256 sidecar.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { create } from 'tar';

const [source, dest] = process.argv.slice(2);
if (!source || !dest) {
  console.error('usage: backup-app.mjs <source-dir> <dest-dir>');
  process.exit(64);
}
await mkdir(dest, { recursive: true });
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const file = path.join(dest, `app-${stamp}.tar.gz`);
const entries = await readdir(source);
console.log(`archiving ${entries.length} entries of ${source} into ${file}`);
await create({ gzip: true, file, cwd: source, portable: true }, entries);
const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk);
await writeFile(`${file}.sha256`, `${hash.digest('hex')}  ${path.basename(file)}\n`);
console.log(`wrote ${file} and its .sha256 sidecar`);

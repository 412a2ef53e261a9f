// Demo backup script: tars an application folder into <dest>/app-<timestamp>.tar.gz with a sha256 sidecar.
// Inside the archive it adds SHA256SUMS (every file's hash) and MANIFEST.json, which the restore test checks.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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

// Stage a copy so the checksum list and manifest travel inside the archive without touching the source.
const staging = await mkdtemp(path.join(os.tmpdir(), 'demo-backup-'));
try {
  await cp(source, staging, { recursive: true });
  const files = (await readdir(staging, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(staging, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
  const sums = [];
  for (const name of files) {
    sums.push(`${createHash('sha256').update(await readFile(path.join(staging, name))).digest('hex')}  ${name}`);
  }
  await writeFile(path.join(staging, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  await writeFile(path.join(staging, 'MANIFEST.json'), `${JSON.stringify({ created_at: new Date().toISOString(), source, files }, null, 2)}\n`);
  const entries = await readdir(staging);
  console.log(`archiving ${files.length} files of ${source} (plus SHA256SUMS and MANIFEST.json) into ${file}`);
  await create({ gzip: true, file, cwd: staging, portable: true }, entries);
} finally {
  await rm(staging, { recursive: true, force: true });
}
const hash = createHash('sha256');
for await (const chunk of createReadStream(file)) hash.update(chunk);
await writeFile(`${file}.sha256`, `${hash.digest('hex')}  ${path.basename(file)}\n`);
console.log(`wrote ${file} and its .sha256 sidecar`);

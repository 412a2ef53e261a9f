// Demo backup script: archives an application folder into <dest>/app-<timestamp>.tar.gz with a sha256 sidecar.
// Inside the archive it adds SHA256SUMS (every file's hash) and MANIFEST.json, which the restore test checks.
// It needs nothing but Node.js, so a copied demo runs anywhere. Every file is written under a temporary
// dot-name, fsynced, and renamed only when complete: a failed run never leaves a final-named partial file.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';

const [source, dest] = process.argv.slice(2);
if (!source || !dest) {
  console.error('usage: backup-app.mjs <source-dir> <dest-dir>');
  process.exit(64);
}
await mkdir(dest, { recursive: true });
// Milliseconds in the name: two runs in the same second still make two archives.
const stamp = new Date().toISOString().replace(/[-:.]/g, '');
const file = path.join(dest, `app-${stamp}.tar.gz`);
const temps = [];
const tempFor = (final) => {
  const temp = path.join(path.dirname(final), `.${path.basename(final)}.tmp-${process.pid}`);
  temps.push(temp);
  return temp;
};

// One ustar header block; the demo's names are short, so no long-name extensions are needed.
function tarHeader(name, size, mtime) {
  if (Buffer.byteLength(name) > 100) throw new Error(`${name}: name longer than 100 bytes`);
  const block = Buffer.alloc(512);
  const put = (text, offset, length) => block.write(text, offset, length, 'utf8');
  const octal = (n, length) => n.toString(8).padStart(length - 1, '0');
  put(name, 0, 100);
  put(`${octal(0o644, 8)}\0`, 100, 8);
  put(`${octal(0, 8)}\0`, 108, 8);
  put(`${octal(0, 8)}\0`, 116, 8);
  put(`${octal(size, 12)}\0`, 124, 12);
  put(`${octal(Math.floor(mtime / 1000), 12)}\0`, 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return block;
}

async function* tarEntries(entries) {
  for (const entry of entries) {
    yield tarHeader(entry.name, entry.data.length, entry.mtime);
    yield entry.data;
    const pad = (512 - (entry.data.length % 512)) % 512;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(1024);
}

// Writes the stream to a temp name, fsyncs it, links it into place (never over an existing file), then fsyncs the folder.
async function writeComplete(final, readable) {
  const temp = tempFor(final);
  await pipeline(readable, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
  const handle = await open(temp, 'r');
  await handle.sync().finally(() => handle.close());
  await link(temp, final);
  await unlink(temp);
  const folder = await open(path.dirname(final), 'r');
  await folder.sync().finally(() => folder.close());
}

try {
  const names = (await readdir(source, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(source, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/'))
    .sort();
  const entries = [];
  for (const name of names) {
    const full = path.join(source, name);
    entries.push({ name, data: await readFile(full), mtime: (await stat(full)).mtimeMs });
  }
  const sums = entries.map((e) => `${createHash('sha256').update(e.data).digest('hex')}  ${e.name}`);
  const now = Date.now();
  entries.push({ name: 'SHA256SUMS', data: Buffer.from(`${sums.join('\n')}\n`), mtime: now });
  const manifest = { created_at: new Date(now).toISOString(), source, files: names };
  entries.push({ name: 'MANIFEST.json', data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), mtime: now });
  console.log(`archiving ${names.length} files of ${source} (plus SHA256SUMS and MANIFEST.json) into ${file}`);
  await writeComplete(file, Readable.from(tarEntries(entries)).pipe(createGzip()));

  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  await writeComplete(`${file}.sha256`, Readable.from([`${hash.digest('hex')}  ${path.basename(file)}\n`]));
  console.log(`wrote ${file} and its .sha256 sidecar`);
} catch (error) {
  console.error(`backup failed: ${error.message}`);
  // The archive is only useful with its sidecar: without one, remove both so nothing half-made looks final.
  for (const temp of temps) await rm(temp, { force: true });
  if (temps.length === 2) await rm(file, { force: true });
  process.exitCode = 1;
}

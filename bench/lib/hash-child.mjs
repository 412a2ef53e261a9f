// `node bench/lib/hash-child.mjs pool|simple <file>...`: hashes the files at once, prints one "<sha256>  <file>" a line.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [mode, ...files] = process.argv.slice(2);
const hash =
  mode === 'pool'
    ? (await import(path.join(ROOT, 'dist/src/util/hash-pool.js'))).sha256FileFast
    : (await import(path.join(ROOT, 'dist/src/util/hash.js'))).sha256File;
const digests = await Promise.all(files.map((file) => hash(file)));
for (const [i, file] of files.entries()) console.log(`${digests[i]}  ${file}`);

// `node bench/lib/newest-child.mjs fast|today <pattern>`: prints the newest file matching the pattern.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [mode, pattern] = process.argv.slice(2);

/** The search as the file source did it: tinyglobby lists every match, then each is stat-ed in turn. */
async function findNewestToday(glob) {
  const { glob: list } = await import('tinyglobby');
  let newest;
  for (const file of await list(glob, { absolute: true, onlyFiles: true, dot: true, expandDirectories: false })) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile() && (!newest || info.mtimeMs > newest.mtimeMs)) newest = { file, mtimeMs: info.mtimeMs };
  }
  return newest;
}

const found =
  mode === 'fast' ? await (await import(path.join(ROOT, 'dist/src/util/newest-file.js'))).findNewestFile(pattern) : await findNewestToday(pattern);
console.log(found?.file ?? '');

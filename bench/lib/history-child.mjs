// `node bench/lib/history-child.mjs rearguard|json <file>`: reads a size history in a fresh process; prints the
// entry count and the ms the read took, measured inside (the process start is the same for both and left out).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [mode, file] = process.argv.slice(2);
const { readHistory } = mode === 'rearguard' ? await import(path.join(ROOT, 'dist/src/state/history.js')) : {};
const started = performance.now();
const count = mode === 'rearguard' ? (await readHistory(file)).length : JSON.parse(readFileSync(file, 'utf8')).entries.length;
console.log(JSON.stringify({ count, ms: performance.now() - started }));

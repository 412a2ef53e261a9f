// The code of a hash worker thread, kept as a string and started with `new Worker(source, { eval: true })`.
//
// Why a string and not a worker file: the build (tsc) only emits .ts sources into dist/, the tests run the .ts
// sources, where a worker thread on Node 20 cannot load a .ts file, and a CLI bundled into one file has no
// worker file beside it at all. An eval'd CommonJS string needs no path and runs the same in all three.
// It is plain JavaScript on purpose: only node: built-ins, nothing the compiler would have to rewrite.

/** JavaScript run in each hash worker: says `{ ready: true }` once booted, then answers `{ id, file, start, length, bufferBytes }` with a digest or an error. */
export const HASH_WORKER_SOURCE = String.raw`'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');

// One buffer per worker, reused for every read of every job: no garbage per chunk. Reads are synchronous: the
// worker has nothing else to do, and a read from the page cache costs far less than hashing it, so one thread
// that reads then hashes (as openssl dgst does) beats handing each read to libuv's pool and waking up for it.
let buffer = null;

// The buffer starts on a page boundary. The kernel's copy from the page cache runs several times slower on
// some CPUs (AMD EPYC, measured: 2 GiB in 0.9-1.2 s instead of 0.16-0.2 s) into a buffer 16 bytes past one,
// which is where malloc puts a large allocation, or not, as earlier frees in the process happen to leave it.
// A WebAssembly memory is mapped whole pages at a time; without WebAssembly (--jitless), malloc's buffer.
function pageAlignedBuffer(bytes) {
  if (typeof WebAssembly === 'object') {
    try {
      const pages = Math.ceil(bytes / 65536);
      return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, bytes);
    } catch {
      // No room for one more mapping: the plain buffer reads the same bytes, only slower.
    }
  }
  return Buffer.allocUnsafeSlow(bytes);
}

function kindOf(info) {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function hashJob(job) {
  if (buffer === null || buffer.length !== job.bufferBytes) buffer = pageAlignedBuffer(job.bufferBytes);
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); it changes nothing for files.
  const fd = fs.openSync(job.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const info = fs.fstatSync(fd);
    if (!info.isFile()) {
      const error = new Error('found ' + kindOf(info));
      error.code = info.isDirectory() ? 'EISDIR' : 'EINVAL';
      error.syscall = 'fstat';
      throw error;
    }
    const hash = createHash('sha256');
    const size = job.bufferBytes;
    let position = job.start;
    let left = job.length; // -1: to the end of the file as it is when the read reaches it
    let bytes = 0;
    for (;;) {
      const want = left < 0 ? size : Math.min(size, left);
      if (want === 0) break;
      const n = fs.readSync(fd, buffer, 0, want, position);
      if (n === 0) break;
      position += n;
      bytes += n;
      if (left > 0) left -= n;
      hash.update(n === size ? buffer : buffer.subarray(0, n));
    }
    return { id: job.id, sha256: hash.digest('hex'), bytes };
  } finally {
    fs.closeSync(fd);
  }
}

parentPort.on('message', (job) => {
  let answer;
  try {
    answer = hashJob(job);
  } catch (error) {
    answer = { id: job.id, error: { code: error && error.code, syscall: error && error.syscall, message: String(error && error.message) } };
  }
  parentPort.postMessage(answer);
});
// Booted and listening: the pool gives a worker no job before this.
parentPort.postMessage({ ready: true });
`;

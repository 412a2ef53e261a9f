// The hash pool proves itself against sha256File (the simple path) on the same files, hostile ones included.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256File } from '../../../src/util/hash.js';
import { HashAbortError, HashFileError, HashPool } from '../../../src/util/hash-pool.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUFFER = 64 * 1024;
let dir: string;
let pool: HashPool;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-hash-pool-'));
  pool = new HashPool({ size: 2, bufferBytes: BUFFER });
});
afterEach(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

async function makeFile(name: string, bytes: number): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, randomBytes(bytes));
  return file;
}

describe('HashPool equals sha256File', () => {
  it.each([
    ['empty', 0],
    ['one byte', 1],
    ['one byte short of a buffer', BUFFER - 1],
    ['exactly one buffer', BUFFER],
    ['one buffer and one byte', BUFFER + 1],
    ['exactly the default 256 KiB buffer', 256 * 1024],
    ['a few MiB, not a multiple of the buffer', 3 * 1024 * 1024 + 17],
  ])('%s (%d bytes)', async (_name, bytes) => {
    const file = await makeFile('data.bin', bytes);
    const digest = await pool.hashFile(file);
    expect(digest).toEqual({ sha256: await sha256File(file), bytes });
    expect(digest.sha256).toBe(createHash('sha256').update(await readFile(file)).digest('hex'));
  });

  it('hashes many files at once on no more workers than its size, each to its own digest', async () => {
    const files = await Promise.all(Array.from({ length: 7 }, (_, i) => makeFile(`f${i}.bin`, 200_000 + i * 70_001)));
    const digests = await Promise.all(files.map((file) => pool.hashFile(file)));
    expect(pool.workers).toBeLessThanOrEqual(2);
    for (const [i, file] of files.entries()) expect(digests[i]!.sha256).toBe(await sha256File(file));
  });

  it('prestarts idle workers, no more than its size, and hashes on them as on workers started on demand', async () => {
    pool.prestart(5);
    expect(pool.workers).toBe(2);
    const files = await Promise.all([makeFile('a.bin', 300_001), makeFile('b.bin', 70_000)]);
    const digests = await Promise.all(files.map((file) => pool.hashFile(file)));
    expect(pool.workers).toBe(2);
    for (const [i, file] of files.entries()) expect(digests[i]!.sha256).toBe(await sha256File(file));
  });

  it('gives no job to a worker still booting: what waits goes to the ready one, and a waiting job boots the next', async () => {
    // The second worker is a real worker thread held at its first line (on a flag this test sets), so it stays
    // "booting" for as long as the test needs: every file must still be hashed, by the worker that is ready.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    let made = 0;
    const held = new HashPool({
      size: 2,
      bufferBytes: BUFFER,
      createWorker: (source) => {
        made += 1;
        const wait = made === 1 ? '' : "Atomics.wait(new Int32Array(require('node:worker_threads').workerData), 0, 0);\n";
        return new Worker(wait + source, { eval: true, workerData: flag.buffer });
      },
    });
    const ports = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'MessagePort').length;
    const portsBefore = ports();
    try {
      const first = await makeFile('first.bin', 1000);
      expect((await held.hashFile(first)).sha256).toBe(await sha256File(first));
      const files = await Promise.all(Array.from({ length: 4 }, (_, i) => makeFile(`small${i}.bin`, 1000 + i)));
      const digests = await Promise.all(files.map((file) => held.hashFile(file)));
      for (const [i, file] of files.entries()) expect(digests[i]!.sha256).toBe(await sha256File(file));
      // The jobs that found the ready worker busy started the second one, which never came up.
      expect(made).toBe(2);
      expect(held.workers).toBe(2);
      // Nothing waits for it any more: neither worker keeps the process alive.
      expect(ports()).toBe(portsBefore);
    } finally {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await held.close();
    }
  });

  it('fails the waiting jobs one by one when a worker dies as it boots, instead of starting workers forever', async () => {
    let made = 0;
    const broken = new HashPool({
      size: 1,
      createWorker: (source) => {
        made += 1;
        return new Worker(`throw new Error('no thread for you');\n${source}`, { eval: true, stderr: true });
      },
    });
    try {
      const files = await Promise.all([makeFile('x.bin', 10), makeFile('y.bin', 20)]);
      const results = await Promise.allSettled(files.map((file) => broken.hashFile(file)));
      for (const [i, result] of results.entries()) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(HashFileError);
        expect(error.message).toContain(files[i]);
        expect(error.message).toMatch(/hash worker stopped: no thread for you/);
      }
      expect(made).toBe(2);
    } finally {
      await broken.close();
    }
  });

  it('hashes byte ranges like a slice of the file', async () => {
    const file = await makeFile('range.bin', 300_000);
    const content = await readFile(file);
    for (const [start, length] of [[0, 0], [0, 1], [1, BUFFER], [BUFFER - 1, BUFFER + 2], [250_000, 50_000], [299_999, 10]] as const) {
      const digest = await pool.hashFile(file, { start, length });
      const slice = content.subarray(start, start + length);
      expect(digest).toEqual({ sha256: createHash('sha256').update(slice).digest('hex'), bytes: slice.length });
    }
    await expect(pool.hashFile(file, { start: -1 })).rejects.toThrow(/expected whole, non-negative start and length/);
  });

  it('hashes a file being appended to: the digest is that of the first `bytes` bytes, read to an end it found', async () => {
    const file = await makeFile('growing.bin', 2 * 1024 * 1024);
    let writing = true;
    const writer = (async () => {
      while (writing) await appendFile(file, randomBytes(64 * 1024 + 3));
    })();
    const digest = await pool.hashFile(file);
    writing = false;
    await writer;
    expect(digest.bytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    const prefix = path.join(dir, 'prefix.bin');
    await writeFile(prefix, (await readFile(file)).subarray(0, digest.bytes));
    expect(digest.sha256).toBe(await sha256File(prefix));
  });
});

describe('HashPool failures', () => {
  it('rejects a missing file like sha256File does, naming the file, and keeps working', async () => {
    const missing = path.join(dir, 'no-such.bin');
    const simple = await sha256File(missing).catch((error: NodeJS.ErrnoException) => error);
    const fast = await pool.hashFile(missing).catch((error: unknown) => error);
    expect(fast).toBeInstanceOf(HashFileError);
    expect((fast as HashFileError).code).toBe((simple as NodeJS.ErrnoException).code);
    expect((fast as HashFileError).message).toContain(missing);
    expect((fast as HashFileError).message).toMatch(/found nothing/);
    const file = await makeFile('after.bin', 1000);
    expect((await pool.hashFile(file)).sha256).toBe(await sha256File(file));
  });

  it('rejects a directory with EISDIR, like sha256File', async () => {
    const sub = path.join(dir, 'sub');
    await mkdir(sub);
    const simple = await sha256File(sub).catch((error: NodeJS.ErrnoException) => error);
    await expect(pool.hashFile(sub)).rejects.toMatchObject({ name: 'HashFileError', code: (simple as NodeJS.ErrnoException).code, file: sub });
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(dir, 'pipe');
    await execa('mkfifo', [fifo]);
    await expect(pool.hashFile(fifo)).rejects.toThrow(/expected a regular file.*found a FIFO/);
  });

  it('rejects at once, starting no worker, when the signal is already aborted', async () => {
    const file = await makeFile('x.bin', 10);
    await expect(pool.hashFile(file, { signal: AbortSignal.abort('SIGTERM') })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'SIGTERM' });
    expect(pool.workers).toBe(0);
  });

  it('abort mid-file: rejects with AbortError, frees the worker, and the pool hashes the next file right', async () => {
    const one = new HashPool({ size: 1, bufferBytes: 4096 }); // a small buffer makes the read long enough to abort inside
    try {
      const big = await makeFile('big.bin', 64 * 1024 * 1024);
      const small = await makeFile('small.bin', 5000);
      const controller = new AbortController();
      const running = one.hashFile(big, { signal: controller.signal });
      const queued = one.hashFile(small); // waits behind the big one on the only worker
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(one.workers).toBe(1);
      controller.abort('SIGINT');
      const error = await running.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HashAbortError);
      expect((error as Error).message).toContain(big);
      expect((await queued).sha256).toBe(await sha256File(small));
      expect((await one.hashFile(big)).sha256).toBe(await sha256File(big));
    } finally {
      await one.close();
    }
  });

  it('a closed pool rejects new work with a message that says what to do', async () => {
    await pool.close();
    await expect(pool.hashFile(path.join(dir, 'x'))).rejects.toThrow(/pool was closed; create a new pool/);
  });
});

describe('HashPool as compiled JavaScript in its own process', () => {
  it('hashes on eval workers outside the test runner and lets the process exit without close(), also without WebAssembly (--jitless), whose memory is the page-aligned read buffer', async () => {
    // The same sources, compiled the way the build compiles them, run by plain node: proves the worker needs no
    // file beside the module and that idle workers do not keep the process alive.
    const out = path.join(dir, 'compiled');
    await mkdir(out);
    await writeFile(path.join(out, 'package.json'), '{"type":"module"}');
    for (const name of ['hash-pool', 'hash-file-error', 'hash-worker-source', 'abort-hub']) {
      const source = await readFile(path.join(ROOT, 'src/util', `${name}.ts`), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
      await writeFile(path.join(out, `${name}.js`), js.outputText);
    }
    const file = await makeFile('child.bin', 1_000_003);
    // A prestarted worker left idle must not keep the process alive either.
    const script = `import { sha256FileFast, sharedHashPool } from './hash-pool.js';\nsharedHashPool().prestart(2);\nconsole.log(await sha256FileFast(${JSON.stringify(file)}));\n`;
    await writeFile(path.join(out, 'main.mjs'), script);
    const expected = await sha256File(file);
    for (const flags of [[], ['--jitless']]) {
      // The timeout only guards against a hang (a worker keeping the process alive); it is not a timing assertion.
      const child = await execa(process.execPath, [...flags, 'main.mjs'], { cwd: out, reject: false, timeout: 30_000 });
      expect(child.timedOut).toBe(false);
      expect(child.exitCode, child.stderr).toBe(0);
      expect(child.stdout.trim(), flags.join(' ')).toBe(expected);
    }
  });
});


// sha256 of files on worker threads, one per core, so several artifacts hash at once and the event loop stays free.
import { onAbort } from './abort-hub.js';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HashAbortError, HashFileError } from './hash-file-error.js';
import { HASH_WORKER_SOURCE } from './hash-worker-source.js';

export { HashAbortError, HashFileError } from './hash-file-error.js';

/** Bytes read per system call; measured: 128–512 KiB match `openssl dgst`, larger buffers only cost memory. */
export const DEFAULT_BUFFER_BYTES = 256 * 1024;

/** What to hash of a file and how to stop. */
export interface HashFileOptions {
  signal?: AbortSignal;
  /** First byte to hash (default 0). */
  start?: number;
  /** Bytes to hash from `start` (default: to the end of the file as the read finds it). */
  length?: number;
}

/** The sha256 of what was read and how many bytes that was (a file still being written may have grown since). */
export interface FileDigest {
  sha256: string;
  bytes: number;
}

/** Settings of a pool. */
export interface HashPoolOptions {
  /** Worker threads at most (default: os.availableParallelism()). */
  size?: number;
  /** Read buffer per worker (default DEFAULT_BUFFER_BYTES). */
  bufferBytes?: number;
  /** Makes a worker thread of the worker's source (default: an eval'd Worker); a test holds one back with it. */
  createWorker?: (source: string) => Worker;
}

interface Job {
  id: number;
  file: string;
  start: number;
  length: number;
  signal: AbortSignal | undefined;
  resolve: (digest: FileDigest) => void;
  reject: (error: Error) => void;
  offAbort?: () => void;
}

interface Slot {
  worker: Worker;
  /** The worker said it is ready: until then it is booting and is given no job. */
  ready: boolean;
  job?: Job;
}

type Answer = { ready: true } | { id: number; sha256: string; bytes: number } | { id: number; error: { code?: string; syscall?: string; message: string } };

/** A bounded set of hash workers, started on demand; idle workers never keep the process alive. */
export class HashPool {
  readonly size: number;
  private readonly bufferBytes: number;
  private readonly createWorker: (source: string) => Worker;
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: HashPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.size ?? os.availableParallelism()));
    this.bufferBytes = Math.max(4096, Math.floor(options.bufferBytes ?? DEFAULT_BUFFER_BYTES));
    this.createWorker = options.createWorker ?? ((source) => new Worker(source, { eval: true, stdout: false, stderr: false }));
  }

  /** Hashes a file (or a byte range of it); rejects with HashFileError naming the file, or HashAbortError. */
  hashFile(file: string, options: HashFileOptions = {}): Promise<FileDigest> {
    const { signal } = options;
    const start = options.start ?? 0;
    const length = options.length ?? -1;
    if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(length) || length < -1) {
      return Promise.reject(new RangeError(`hash range of ${file}: expected whole, non-negative start and length, got start=${start} length=${length}`));
    }
    if (this.closed) return Promise.reject(new Error(`cannot hash ${file}: the hash pool was closed; create a new pool`));
    if (signal?.aborted) return Promise.reject(new HashAbortError(file, signal.reason));
    return new Promise<FileDigest>((resolve, reject) => {
      const job: Job = { id: this.nextId++, file, start, length, signal, resolve, reject };
      if (signal) {
        job.offAbort = onAbort(signal, () => this.abort(job));
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Stops every worker; jobs still queued or running are rejected. The pool cannot be used after. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error(`cannot hash ${job.file}: the hash pool was closed`));
    const running = [...this.slots];
    this.slots.clear();
    await Promise.all(
      running.map(async (slot) => {
        if (slot.job) this.settle(slot.job, new Error(`cannot hash ${slot.job.file}: the hash pool was closed`));
        await slot.worker.terminate();
      }),
    );
  }

  /**
   * Starts idle workers now, up to `count` (and the pool's size), so that a hash asked for later does not wait
   * for a thread to boot (30–40 ms). Idle workers never keep the process alive.
   */
  prestart(count = 1): void {
    if (this.closed) return;
    while (this.slots.size < Math.min(count, this.size)) this.startWorker();
  }

  /** Workers started and alive now (for tests and diagnostics). */
  get workers(): number {
    return this.slots.size;
  }

  // Jobs go to ready workers only. A worker still booting (30–40 ms) is given none: the job waits in the queue and
  // goes to whichever worker is free first, so small files are hashed by a ready worker while another boots, and
  // a large one by the new worker as soon as it is up. A job that cannot go to a ready worker boots one more.
  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = [...this.slots].find((candidate) => candidate.ready && candidate.job === undefined);
      if (!slot) {
        const booting = [...this.slots].filter((candidate) => !candidate.ready);
        while (this.slots.size < this.size && booting.length < this.queue.length) booting.push(this.startWorker());
        // Waiting jobs keep the process alive through the workers they wait for, as a running hash does.
        for (const candidate of booting) candidate.worker.ref();
        return;
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a running hash keeps the process alive, as a pending read would
      slot.worker.postMessage({ id: job.id, file: job.file, start: job.start, length: job.length, bufferBytes: this.bufferBytes });
    }
    // Nothing waits: a worker still booting no longer keeps the process alive.
    for (const candidate of this.slots) if (!candidate.ready) candidate.worker.unref();
  }

  private startWorker(): Slot {
    const worker = this.createWorker(HASH_WORKER_SOURCE);
    const slot: Slot = { worker, ready: false };
    worker.on('message', (answer: Answer) => {
      if ('ready' in answer) {
        slot.ready = true;
        this.dispatch();
        if (!slot.job) worker.unref();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== answer.id) return;
      slot.job = undefined;
      worker.unref();
      if ('error' in answer) this.settle(job, new HashFileError(job.file, answer.error.code, answer.error.syscall, answer.error.message));
      else this.settle(job, undefined, { sha256: answer.sha256, bytes: answer.bytes });
      this.dispatch();
    });
    // A worker that dies (out of memory, a bug) fails only its own job; the next job gets a fresh worker. One that
    // dies as it boots fails the job that waits longest (the one it was started for), so that a worker that can
    // never start fails the jobs one by one instead of being started again and again.
    const lost = (why: string) => {
      if (!this.slots.delete(slot)) return;
      const job = slot.job ?? (slot.ready ? undefined : this.queue.shift());
      slot.job = undefined;
      if (job) this.settle(job, new HashFileError(job.file, undefined, undefined, `the hash worker stopped: ${why}; run again`));
      this.dispatch();
    };
    worker.on('error', (error: Error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    worker.unref();
    this.slots.add(slot);
    return slot;
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    const slot = [...this.slots].find((candidate) => candidate.job === job);
    if (slot) {
      // A read in progress cannot be interrupted from outside; terminating the worker stops it after the current
      // buffer and frees its core at once. A fresh worker is started when the next job needs one.
      this.slots.delete(slot);
      slot.job = undefined;
      void slot.worker.terminate();
    }
    this.settle(job, new HashAbortError(job.file, job.signal?.reason));
    this.dispatch();
  }

  private settle(job: Job, error: Error | undefined, digest?: FileDigest): void {
    job.offAbort?.();
    if (error) job.reject(error);
    else job.resolve(digest!);
  }
}

let shared: HashPool | undefined;

/** The process-wide pool, started on first use and sized to the machine's cores. */
export function sharedHashPool(): HashPool {
  shared ??= new HashPool();
  return shared;
}

/** The hex sha256 of a whole file on the shared pool: the fast path of sha256File in hash.ts. */
export async function sha256FileFast(file: string, signal?: AbortSignal): Promise<string> {
  return (await sharedHashPool().hashFile(file, signal ? { signal } : {})).sha256;
}

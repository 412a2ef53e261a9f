// Where a process's stdout and stderr go: one pipe (a FIFO, so /dev/stdout works), read by rearguard into a capped log or a bounded capture.
import { processExists } from '../util/process-exists.js';
import { execFile } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CappedLog, type LogSummary } from './capped-log.js';

/** The write end handed to the child as stdout and stderr, and how the output ends. */
export interface OutputSink {
  /** Give this descriptor to the child as fd 1 and fd 2; call `closeWriteEnd()` right after spawning. */
  fd: number;
  /** The FIFO's name, for a process that opens the write end itself (the run's launcher); gone after `closeWriteEnd()`. */
  path: string;
  /** Closes rearguard's copy of the write end (and takes the FIFO's name away), so the pipe ends when the program's processes end. */
  closeWriteEnd(): void;
  /**
   * Stops reading and finishes the log. Waits up to `drainMs` for the end of the stream: the
   * program is gone by then and anything it left behind has been terminated, but a process that
   * escaped containment may still hold the pipe, and it must not hold the run.
   */
  finish(drainMs: number): Promise<OutputSummary>;
}

/** What came out of a process. */
export interface OutputSummary extends LogSummary {
  /** The last captured bytes, when there was no log file. */
  captured: string;
}

/** Where output should go. */
export interface SinkOptions {
  logFile?: string;
  logMax?: number;
  /** Bytes of the end kept when capturing (no log file). */
  captureMax: number;
}

/** Opens the pipe and starts reading it. */
export async function openOutputSink(options: SinkOptions): Promise<OutputSink> {
  const { readFd, writeFd, fifo } = await makeFifo();
  let log: CappedLog | undefined;
  try {
    log = options.logFile ? CappedLog.open(options.logFile, options.logMax) : undefined;
  } catch (error) {
    closeSync(readFd);
    closeSync(writeFd);
    rmSync(fifo, { force: true });
    throw error;
  }
  const capture = new TailBuffer(options.captureMax);
  // A pipe descriptor wrapped in a socket is read through the event loop, never by a blocked thread.
  const reader = new net.Socket({ fd: readFd, readable: true, writable: false });
  let writeEndOpen = true;
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  reader.on('data', (chunk: Buffer) => {
    if (!log) return capture.push(chunk);
    reader.pause();
    chain = chain
      .then(() => log.write(chunk))
      .catch((error: Error) => {
        failure ??= error;
      })
      .finally(() => {
        if (!reader.destroyed) reader.resume();
      });
  });
  // The end of the stream: every writer closed the pipe (not a timeout, an error or a destroy).
  let sawEnd = false;
  const ended = new Promise<void>((resolve) => {
    reader.once('end', () => {
      sawEnd = true;
      resolve();
    });
    reader.once('close', resolve);
    reader.once('error', () => resolve());
  });
  // The FIFO under a name nobody was given, from the moment the program runs until the sink is done with it.
  let parked: string | undefined;
  const closeWriteEnd = (): void => {
    if (!writeEndOpen) return;
    writeEndOpen = false;
    closeSync(writeFd);
    parked = parkFifo(fifo);
  };
  return {
    fd: writeFd,
    path: fifo,
    closeWriteEnd,
    async finish(drainMs) {
      closeWriteEnd();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
      reader.destroy();
      if (parked !== undefined) releaseFifo(parked, sawEnd);
      parked = undefined;
      await chain;
      const summary = log ? await log.finish() : { bytes: capture.total, droppedBytes: 0, truncated: false };
      if (failure) throw failure;
      return { ...summary, captured: capture.text() };
    },
  };
}

/**
 * FIFOs made ahead, so a process start does not pay for a mkfifo process of its own. Each mkfifo is a fork of
 * rearguard, whose every page the next write then copies, and each FIFO costs the file system an inode: a FIFO
 * whose stream ended goes back to the pool (releaseFifo), so a run needs about as many as it runs programs at
 * once. The batches double (up to POOL_MAX), and the next one is made while POOL_LOW are left, so a run that
 * needs more forks a few times and never waits for it.
 */
const POOL_FIRST = 32;
const POOL_MAX = 256;
const POOL_LOW = 8;
let pool: { dir: string; names: string[]; batch: number } | undefined;
let refilling: Promise<void> | undefined;
// Names given out so far in the pool's private folder, to FIFOs made and to FIFOs parked: each is used once.
let made = 0;

/**
 * Starts making FIFOs before the first program needs one (its failure is seen by the first start that waits
 * for it): a command that will start programs calls it as it begins, while rearguard is small to fork.
 */
export function prefillFifoPool(): void {
  startRefill().catch(() => undefined);
}

function startRefill(): Promise<void> {
  refilling ??= refill().finally(() => {
    refilling = undefined;
  });
  return refilling;
}

/**
 * A FIFO opened at both ends: a pipe whose write end is a plain descriptor. Its name stays (in a private
 * folder) until the sink's write end is closed, for a launcher that opens the write end by name.
 */
async function makeFifo(): Promise<{ readFd: number; writeFd: number; fifo: string }> {
  while (!pool || pool.names.length === 0) await startRefill();
  const fifo = path.join(pool.dir, pool.names.pop()!);
  // The next batch while this one lasts; a failure there is met again by the start that finds the pool empty.
  if (pool.names.length < POOL_LOW) startRefill().catch(() => undefined);
  let readFd: number | undefined;
  try {
    // Non-blocking read end first, so opening the write end does not wait for a reader.
    readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    return { readFd, writeFd, fifo };
  } catch (error) {
    if (readFd !== undefined) closeSync(readFd);
    rmSync(fifo, { force: true });
    throw error;
  }
}

/**
 * Takes the FIFO's name away once the program has its write end: the FIFO moves to a fresh name in the pool's
 * folder that no process was given, so nothing can open it by the name it ran with. Returns the new name, or
 * undefined when the FIFO is gone (the move failed, or the pool was closed meanwhile).
 */
function parkFifo(fifo: string): string | undefined {
  const current = pool;
  if (current && path.dirname(fifo) === current.dir) {
    const fresh = path.join(current.dir, `p${(made += 1)}`);
    try {
      renameSync(fifo, fresh);
      return fresh;
    } catch {
      // Removed below, as a FIFO that is not reused.
    }
  }
  rmSync(fifo, { force: true });
  return undefined;
}

/**
 * A FIFO the sink is done with. It goes back to the pool when its stream ended, that is when every process that
 * held its write end had closed it: it is empty then, and its parked name was never given out, so the next
 * program finds it as new, and no mkfifo is paid for it. One whose end never came (a process that escaped
 * containment still holds it) is removed, so what that process writes never reaches another program's log.
 */
function releaseFifo(parked: string, ended: boolean): void {
  if (ended && pool && path.dirname(parked) === pool.dir) {
    pool.names.push(path.basename(parked));
    return;
  }
  rmSync(parked, { force: true });
}

async function refill(): Promise<void> {
  const current = pool ?? openPool();
  const batch = current.batch;
  const names = Array.from({ length: batch }, () => `p${(made += 1)}`);
  const fifos = names.map((n) => path.join(current.dir, n));
  const failure = await new Promise<string | undefined>((resolve) => {
    execFile('mkfifo', ['-m', '600', '--', ...fifos], { env: { PATH: '/usr/bin:/bin' } }, (error, _stdout, stderr) => {
      if (!error) return resolve(undefined);
      const how = typeof error.code === 'number' ? `exited with ${error.code}` : `could not start (${error.code ?? error.message})`;
      resolve(`${how}${stderr.trim() ? ` (${stderr.trim()})` : ''}`);
    });
  });
  if (failure !== undefined) {
    throw new Error(`could not create pipes for process output: mkfifo ${failure}; expected coreutils' mkfifo in /usr/bin or /bin`);
  }
  // The pool may have been closed meanwhile (the process is exiting): the folder is gone, and so are these.
  if (pool !== current) return;
  current.names.push(...names);
  current.batch = Math.min(batch * 2, POOL_MAX);
}

function openPool(): { dir: string; names: string[]; batch: number } {
  removeDeadPools();
  // A private 0700 folder: nobody else can open a FIFO before rearguard does.
  const dir = mkdtempSync(path.join(os.tmpdir(), `rearguard-pipes-${process.pid}-`));
  process.once('exit', closeFifoPool);
  pool = { dir, names: [], batch: POOL_FIRST };
  return pool;
}

/** Removes the folder of FIFOs made ahead; runs when the process exits. */
export function closeFifoPool(): void {
  if (pool) rmSync(pool.dir, { recursive: true, force: true });
  pool = undefined;
}

/** Folders of FIFOs left by processes killed with SIGKILL (their pid is in the name). */
function removeDeadPools(): void {
  let names: string[];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^rearguard-pipes-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    if (!processExists(pid)) rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

/** The last `max` bytes of a stream, in memory. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  total = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

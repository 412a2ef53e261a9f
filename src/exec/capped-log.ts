// A unit log with a size cap: the head and the tail are kept, the middle becomes one line saying how much was dropped.
import { closeSync, fstatSync, openSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/** Default `log_max`: 64 MiB per program run. */
export const DEFAULT_LOG_MAX = 64 * 1024 * 1024;
/** The smallest cap honoured; below it a log could not hold a useful head and tail. */
export const MIN_LOG_MAX = 4 * 1024;

/** What a capped log received and kept. */
export interface LogSummary {
  /** Bytes the program wrote. */
  bytes: number;
  /** Bytes replaced by the marker line (0 when nothing was dropped). */
  droppedBytes: number;
  truncated: boolean;
}

/**
 * Appends a program's output to `file`, keeping at most `logMax` bytes of it on disk at the end
 * (twice that at most while it runs). The first half goes to the log as it comes; past the cap,
 * output rolls through two tail segments beside the log, each half the cap, so the newest half
 * is always on disk without holding it in memory. `finish()` replaces the log atomically with its
 * head, the marker line and the kept tail, and removes the segments.
 */
export class CappedLog {
  private main: FileHandle | undefined;
  private startSize = 0;
  private written = 0;
  private total = 0;
  private segments: { path: string; handle: FileHandle; size: number }[] = [];
  private segmentSeq = 0;
  private readonly headMax: number;
  private readonly tailMax: number;

  private constructor(
    private readonly file: string,
    private readonly logMax: number,
  ) {
    this.tailMax = Math.floor(logMax / 2);
    this.headMax = logMax - this.tailMax;
  }

  /**
   * Opens (appending to) `file`; earlier content, such as rearguard's own notes and earlier attempts, stays. The
   * file is made and its size read here, so a log that cannot be written is refused before the program starts;
   * the handle the output is written through opens with the first output. A program that prints nothing (most
   * units of a large run) then costs three system calls, not three trips through libuv's thread pool.
   */
  static open(file: string, logMax = DEFAULT_LOG_MAX): CappedLog {
    const log = new CappedLog(file, Math.max(MIN_LOG_MAX, logMax));
    const fd = openSync(file, 'a', 0o600);
    try {
      log.startSize = fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
    return log;
  }

  /** Appends a chunk; resolves once it is on its way to disk (the caller pauses its source meanwhile). */
  async write(chunk: Buffer): Promise<void> {
    this.total += chunk.length;
    let rest = chunk;
    if (this.written < this.logMax) {
      const room = this.logMax - this.written;
      const part = rest.subarray(0, room);
      this.main ??= await open(this.file, 'a+', 0o600);
      await this.main.write(part);
      this.written += part.length;
      rest = rest.subarray(part.length);
    }
    while (rest.length > 0) {
      let current = this.segments[this.segments.length - 1];
      if (!current || current.size >= this.tailMax) current = await this.rotate();
      const part = rest.subarray(0, this.tailMax - current.size);
      await current.handle.write(part);
      current.size += part.length;
      rest = rest.subarray(part.length);
    }
  }

  /**
   * Closes the log; when output went past the cap, rewrites it as head, marker line, tail into a temp
   * file beside it, synced, then renamed over it: a crash or a full disk during the rewrite leaves
   * the whole log as it was, never a log cut back to its head.
   */
  async finish(): Promise<LogSummary> {
    const main = this.main;
    // No handle was opened: nothing was written (or the first write could not open it, which the caller was told).
    if (!main) return { bytes: this.total, droppedBytes: 0, truncated: false };
    const rewritePath = `${this.file}.rewrite`;
    let rewrite: FileHandle | undefined;
    // Set once the rewrite may have made its temp file: only then is there one to remove.
    let rewriting = false;
    let renamed = false;
    try {
      if (this.total <= this.logMax) return { bytes: this.total, droppedBytes: 0, truncated: false };
      const headEnd = this.startSize + this.headMax;
      const mainEnd = (await main.stat()).size;
      const ranges = tailRanges(
        [{ handle: main, offset: headEnd, length: Math.max(0, mainEnd - headEnd) }, ...this.segments.map((s) => ({ handle: s.handle, offset: 0, length: s.size }))],
        this.tailMax,
      );
      const kept = ranges.reduce((n, r) => n + r.length, 0);
      const last = Buffer.alloc(1);
      await main.read(last, 0, 1, headEnd - 1);
      const dropped = this.total - this.headMax - kept;
      const marker =
        `${last[0] === 0x0a ? '' : '\n'}[rearguard ${new Date().toISOString()}] log_max: ${dropped} bytes of output dropped here; ` +
        `the first ${this.headMax} and the last ${kept} bytes of ${this.total} are kept\n`;
      try {
        rewriting = true;
        rewrite = await open(rewritePath, 'w', 0o600);
        await copyRange({ handle: main, offset: 0, length: headEnd }, rewrite);
        await rewrite.write(marker);
        for (const range of ranges) await copyRange(range, rewrite);
        await rewrite.sync();
        await rewrite.close();
        rewrite = undefined;
        await rename(rewritePath, this.file);
        renamed = true;
        return { bytes: this.total, droppedBytes: dropped, truncated: true };
      } catch (error) {
        // A full or read-only disk: the log keeps what it has (the first logMax bytes), and says so if it can.
        const kept = Math.max(0, mainEnd - this.startSize);
        const lost = this.total - kept;
        const said = `\n[rearguard ${new Date().toISOString()}] log_max: the log could not be rewritten (${(error as Error).message}); ${lost} bytes of output after the first ${kept} were dropped\n`;
        await main.write(said).catch(() => undefined);
        return { bytes: this.total, droppedBytes: lost, truncated: true };
      }
    } finally {
      await main.close();
      if (rewrite) await rewrite.close().catch(() => undefined);
      if (rewriting && !renamed) await rm(rewritePath, { force: true });
      for (const segment of this.segments) {
        await segment.handle.close().catch(() => undefined);
        await rm(segment.path, { force: true });
      }
      this.segments = [];
    }
  }

  private async rotate(): Promise<{ path: string; handle: FileHandle; size: number }> {
    if (this.segments.length === 2) {
      const oldest = this.segments.shift()!;
      await oldest.handle.close();
      await rm(oldest.path, { force: true });
    }
    this.segmentSeq += 1;
    const segmentPath = `${this.file}.tail-${this.segmentSeq}`;
    const segment = { path: segmentPath, handle: await open(segmentPath, 'w+', 0o600), size: 0 };
    this.segments.push(segment);
    return segment;
  }

}

interface Range {
  handle: FileHandle;
  offset: number;
  length: number;
}

/** The ranges, in order, that hold the last `max` bytes of the sources taken end to end. */
export function tailRanges(sources: Range[], max: number): Range[] {
  const out: Range[] = [];
  let need = max;
  for (let i = sources.length - 1; i >= 0 && need > 0; i -= 1) {
    const source = sources[i]!;
    const length = Math.min(need, source.length);
    if (length === 0) continue;
    out.unshift({ handle: source.handle, offset: source.offset + source.length - length, length });
    need -= length;
  }
  return out;
}

const COPY_CHUNK = 1024 * 1024;

/** Copies a range to `target` (at `position`, or appended) in bounded chunks; returns the bytes copied. */
async function copyRange(range: Range, target: FileHandle, position?: number): Promise<number> {
  const buffer = Buffer.alloc(Math.min(COPY_CHUNK, Math.max(1, range.length)));
  let done = 0;
  while (done < range.length) {
    const { bytesRead } = await range.handle.read(buffer, 0, Math.min(buffer.length, range.length - done), range.offset + done);
    if (bytesRead === 0) break;
    await target.write(buffer.subarray(0, bytesRead), 0, bytesRead, position === undefined ? null : position + done);
    done += bytesRead;
  }
  return done;
}

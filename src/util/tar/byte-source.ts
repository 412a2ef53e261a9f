// Pulls exact byte counts out of a chunked stream without copying, except for a header split across chunks.
/** Thrown when the underlying stream fails (a read or decompression error), as opposed to bad tar data. */
export class SourceError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

const EMPTY = Buffer.alloc(0);

/** Sequential reader over chunks; `offset` counts the bytes consumed so far. */
export class ByteSource {
  /** Bytes consumed so far (the position of the next byte in the stream). */
  offset = 0;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private ended = false;
  private readonly block = Buffer.alloc(512);

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  /** True once the underlying stream has ended (every byte was delivered). */
  get atEnd(): boolean {
    return this.ended && this.pos >= this.chunk.length;
  }

  /** Makes bytes available; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return false;
      let next: IteratorResult<Buffer>;
      try {
        next = await this.chunks.next();
      } catch (cause) {
        throw new SourceError(cause);
      }
      if (next.done) {
        this.ended = true;
        return false;
      }
      this.chunk = next.value;
      this.pos = 0;
    }
    return true;
  }

  /**
   * The next 512-byte block: a view into the stream's chunk, or a reused buffer when it spans two chunks
   * (valid until the next call). Returns the number of bytes found instead when the stream ends first.
   */
  async readBlock(): Promise<Buffer | number> {
    if (!(await this.fill())) return 0;
    if (this.chunk.length - this.pos >= 512) {
      const view = this.chunk.subarray(this.pos, this.pos + 512);
      this.pos += 512;
      this.offset += 512;
      return view;
    }
    let got = 0;
    while (got < 512) {
      if (!(await this.fill())) return got;
      const n = Math.min(512 - got, this.chunk.length - this.pos);
      this.chunk.copy(this.block, got, this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      got += n;
    }
    return this.block;
  }

  /** A view of at most `max` of the next bytes; undefined at the end of the stream. */
  async next(max: number): Promise<Buffer | undefined> {
    if (!(await this.fill())) return undefined;
    const n = Math.min(max, this.chunk.length - this.pos);
    const view = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return view;
  }

  /** Skips `length` bytes; returns how many were missing when the stream ended first. */
  async skip(length: number): Promise<number> {
    let left = length;
    while (left > 0) {
      if (!(await this.fill())) return left;
      const n = Math.min(left, this.chunk.length - this.pos);
      this.pos += n;
      this.offset += n;
      left -= n;
    }
    return 0;
  }

  /** Reads to the end of the stream; returns the number of bytes skipped and whether any was not zero. */
  async drain(): Promise<{ bytes: number; nonZero: boolean }> {
    let bytes = 0;
    let nonZero = false;
    while (await this.fill()) {
      const rest = this.chunk.subarray(this.pos);
      if (!nonZero && !isZero(rest)) nonZero = true;
      bytes += rest.length;
      this.offset += rest.length;
      this.pos = this.chunk.length;
    }
    return { bytes, nonZero };
  }
}

/** True when every byte of `bytes` is zero. */
export function isZero(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i += 1) if (bytes[i] !== 0) return false;
  return true;
}

// Reads an archive file or stream in one pass: raw bytes to a tap (for its own hash), decompression, strict tar reading.
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { startDecompression, type Decompression } from '../../exec/decompress.js';
import { ByteSource } from './byte-source.js';
import { detectCompression, MAGIC_BYTES, type Compression } from './compression.js';
import { readTar, type EntryHandler, type TarReadResult } from './tar-reader.js';

/** What the caller wants from one pass over an archive. */
export interface ReadArchiveOptions {
  /** Called with every entry and its content stream (see readTar). */
  onEntry?: EntryHandler;
  /** Sees every raw (still compressed) byte of the file in order, e.g. to hash the archive itself. Must not throw. */
  onRawChunk?: (chunk: Buffer) => void;
  signal?: AbortSignal;
  /**
   * Stop at bad tar data instead of reading the rest of the input through the tap: for a tool's output
   * that nobody hashes, so a producer of garbage is cut off at once (it sees its output closed).
   */
  stopAtError?: boolean;
}

/** The outcome of reading an archive; never thrown: `error` says what is wrong, in plain words. */
export interface ReadArchiveResult extends TarReadResult {
  compression: Compression;
  /** Raw bytes read from the file (all of it when `rawComplete`). */
  rawBytes: number;
  /** True when the tap saw the whole file, so a hash fed by it is the file's hash. */
  rawComplete: boolean;
  /** Bytes after the end-of-archive marker (record padding, or anything else: GNU tar ignores them too). */
  trailingBytes: number;
}

const READ_CHUNK = 1024 * 1024;

/** Reads the archive file at `file` (see readArchive); an unreadable file is reported in `error`. */
export function readArchiveFile(file: string | Buffer, options: ReadArchiveOptions = {}): Promise<ReadArchiveResult> {
  return readArchive(createReadStream(file, { highWaterMark: READ_CHUNK }), options);
}

/** Reads a tar (plain, gzip, zstd, xz or bzip2, told by its magic bytes) from `input` to its end, strictly. */
export async function readArchive(input: Readable, options: ReadArchiveOptions = {}): Promise<ReadArchiveResult> {
  const { signal, onRawChunk } = options;
  let rawBytes = 0;
  let rawError: string | undefined;
  const onAbort = (): void => {
    input.destroy();
  };
  if (signal?.aborted) input.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  const rawChunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let decompression: Decompression | undefined;
  let pump: Promise<void> | undefined;
  let feeding = true;
  const stopFeeding = async (): Promise<void> => {
    feeding = false;
    await decompression?.stop();
  };
  try {
    try {
      while (headBytes < MAGIC_BYTES) {
        const next = await rawChunks.next();
        if (next.done) break;
        head.push(next.value);
        headBytes += next.value.length;
      }
    } catch (error) {
      rawError = describeReadError(error, signal);
    }
    const compression = detectCompression(Buffer.concat(head));
    async function* raw(): AsyncGenerator<Buffer> {
      for (const chunk of head) {
        rawBytes += chunk.length;
        onRawChunk?.(chunk);
        yield chunk;
      }
      if (rawError !== undefined) throw new Error(rawError);
      try {
        for (let next = await rawChunks.next(); !next.done; next = await rawChunks.next()) {
          rawBytes += next.value.length;
          onRawChunk?.(next.value);
          yield next.value;
        }
      } catch (error) {
        rawError ??= describeReadError(error, signal);
        throw error;
      }
    }
    const base = { compression, rawBytes: 0, rawComplete: false, trailingBytes: 0 };
    if (rawError !== undefined) return { ...base, entries: 0, tarBytes: 0, warnings: [], error: rawError };
    const rawStream = raw();
    let tarChunks: AsyncIterator<Buffer> = rawStream;
    if (compression !== 'none') {
      decompression = startDecompression(compression, signal);
      const target = decompression.input;
      pump = (async () => {
        try {
          for await (const chunk of rawStream) {
            if (feeding && (target.destroyed || target.writableEnded)) feeding = false;
            if (feeding && !target.write(chunk)) await drained(target);
          }
          if (feeding && !target.destroyed) target.end();
        } catch {
          // A read error is in rawError; a closed decompressor reports through its outcome.
          if (!target.destroyed) target.destroy();
        }
      })();
      tarChunks = decompression.output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    }
    const source = new ByteSource(tarChunks);
    const tar = await readTar(source, options.onEntry);
    let trailingBytes = 0;
    if (tar.error === undefined) {
      try {
        trailingBytes = (await source.drain()).bytes;
      } catch {
        // The decompressor's own outcome says what went wrong.
      }
    } else if (decompression !== undefined && !source.atEnd) {
      // Stopped early on bad tar data; when the output simply ended, the decompressor says why below.
      await stopFeeding();
    }
    if (compression === 'none' && tar.error !== undefined && !tar.sourceFailed && !options.stopAtError) {
      try {
        // The rest of the file still goes through the tap, so the archive's own hash is complete.
        for (let next = await rawStream.next(); !next.done; next = await rawStream.next());
      } catch {
        // rawError says it.
      }
    }
    await pump;
    const decompressed = decompression ? await decompression.outcome : {};
    const result: ReadArchiveResult = { ...tar, compression, rawBytes, rawComplete: rawError === undefined, trailingBytes };
    if (signal?.aborted) result.error = 'stopped: the run was aborted';
    else if (rawError !== undefined) result.error = rawError;
    else if (rawBytes === 0) result.error = 'the archive is empty (0 bytes)';
    else if (decompressed.error !== undefined && (feeding || tar.error === undefined || tar.sourceFailed)) {
      result.error = `${decompressed.error}; the tar data inside stops after ${tar.entries} entr${tar.entries === 1 ? 'y' : 'ies'}, at byte ${tar.tarBytes}`;
    } else if (tar.error !== undefined && compression !== 'none') {
      result.error = `${tar.error} (in the ${compression}-compressed data)`;
    }
    return result;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (decompression) await stopFeeding();
    input.destroy();
    await pump?.catch(() => undefined);
  }
}

/** Waits until `target` takes more data, or can never take any again. */
function drained(target: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      target.off('drain', done);
      target.off('close', done);
      target.off('error', done);
      resolve();
    };
    target.on('drain', done);
    target.on('close', done);
    target.on('error', done);
  });
}

function describeReadError(error: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'stopped: the run was aborted';
  const cause = error as NodeJS.ErrnoException;
  // Node's own messages already start with the code ("EACCES: permission denied, open ..."): said once.
  const said = cause.code && !cause.message.startsWith(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
  const advice = cause.code === 'EACCES' || cause.code === 'EPERM' ? '; run rearguard as a user that may read it' : '';
  return `the archive could not be read: ${said}${advice}`;
}

// Restores a backup that a tool prints as a tar (restic dump, borg export-tar), here or on an SSH host, through the strict reader into scratch.
import { PassThrough } from 'node:stream';
import type { Exec, ProcessResult, ProcessSpec } from '../src/exec/types.js';
import { succeeded } from '../src/exec/types.js';
import type { TarEntry } from '../src/util/tar/entry.js';
import { readArchive, type ReadArchiveResult } from '../src/util/tar/read-archive.js';
import { createRestoreWriter, type RestoreSummary } from '../src/util/tar/restore-writer.js';

const STREAM_BUFFER = 1024 * 1024;
const SHOWN_PROBLEMS = 10;

/** How one tar stream came to the scratch folder: the tool's exit, the reader's verdict, the writer's summary. */
export interface TarStreamRestore {
  result: ProcessResult;
  read: ReadArchiveResult;
  summary?: RestoreSummary;
  /** Writing into the scratch folder failed (disk full, permissions). */
  writeError?: string;
}

/**
 * Runs `spec` (on `host` when given) and writes the tar it prints on stdout into `dir`, entry by entry, as it
 * arrives: names as bytes, nothing outside `dir`, a stream without its end-of-archive marker is an error.
 * `select` chooses entries to write (default all). Never throws for a failed tool or a bad stream.
 */
export async function restoreTarStream(
  exec: Exec,
  host: string | undefined,
  spec: ProcessSpec,
  dir: string,
  select?: (entry: TarEntry) => boolean,
): Promise<TarStreamRestore> {
  const input = new PassThrough({ highWaterMark: STREAM_BUFFER });
  const writer = createRestoreWriter({ dir, ...(select && { select }) });
  let writeError: string | undefined;
  const reading = readArchive(input, {
    ...(spec.signal && { signal: spec.signal }),
    stopAtError: true,
    onEntry: async (entry, content) => {
      let contentFailed = false;
      async function* watched(): AsyncGenerator<Buffer> {
        try {
          for await (const chunk of content) yield chunk;
        } catch (error) {
          contentFailed = true;
          throw error;
        }
      }
      try {
        await writer.write(entry, watched());
      } catch (error) {
        // A stream cut short is the reader's to report (in its result); anything else is a failure to write.
        if (contentFailed) return;
        writeError ??= (error as Error).message;
        throw error;
      }
    },
  }).catch((error: unknown): ReadArchiveResult => {
    // A failed write stops the read; the tool then sees its output closed and ends.
    writeError ??= (error as Error).message;
    return { entries: 0, tarBytes: 0, warnings: [], compression: 'none', rawBytes: 0, rawComplete: false, trailingBytes: 0, error: `stopped: ${writeError}` };
  });
  const full: ProcessSpec = { ...spec, stdoutStream: input };
  const running = (host !== undefined ? exec.runRemote(host, full) : exec.run(full)).then((result) => {
    // Exec has finished its copy of stdout; a tool that never started never ended the stream, so end it here.
    if (!input.writableEnded && !input.destroyed) input.end();
    return result;
  });
  const [result, read] = await Promise.all([running, reading]);
  let summary: RestoreSummary | undefined;
  if (writeError === undefined) {
    try {
      summary = await writer.finish();
    } catch (error) {
      writeError = (error as Error).message;
    }
  }
  return { result, read, ...(summary && { summary }), ...(writeError !== undefined && { writeError }) };
}

/**
 * Why a streamed restore does not prove the backup, or undefined when it does: the tool must exit 0, and
 * the stream must be a complete tar (end-of-archive marker) whose every entry was written safely.
 */
export function judgeTarStream(
  what: string,
  restored: TarStreamRestore,
  explainTool: (result: ProcessResult) => string,
): { message: string; details?: string[] } | undefined {
  const { result, read, summary, writeError } = restored;
  if (!succeeded(result)) {
    const stream = read.error !== undefined ? `; the tar stream stopped after ${read.entries} entries (${read.error})` : '';
    return { message: `${explainTool(result)}${stream}` };
  }
  if (writeError !== undefined) return { message: `writing ${what} into the scratch folder failed: ${writeError}` };
  if (read.error !== undefined) {
    return { message: `the tar stream of ${what} is incomplete or damaged although the tool exited 0: ${read.error}; nothing is proven restorable` };
  }
  const problems = summary?.problems ?? [];
  if (problems.length > 0) {
    return {
      message: `refused to restore ${problems.length} entr${problems.length === 1 ? 'y' : 'ies'} of ${what}, first "${problems[0]!.name}": ${problems[0]!.reason}`,
      details: problems.slice(0, SHOWN_PROBLEMS).map((p) => `${p.name}: ${p.reason}`),
    };
  }
  return undefined;
}

/** Whether an entry lies at or below one of `include` (paths inside the backup, with or without a leading "/"). */
export function includesEntry(include: readonly string[], entry: TarEntry): boolean {
  if (include.length === 0) return true;
  const name = normalise(entry.name.toString('utf8'));
  return include.some((raw) => {
    const wanted = normalise(raw);
    return wanted === '/' || name === wanted || name.startsWith(`${wanted}/`);
  });
}

/** "/a/b" for "a/b", "./a/b/", "/a//b": the segments without "" and ".". */
function normalise(name: string): string {
  return `/${name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')}`;
}

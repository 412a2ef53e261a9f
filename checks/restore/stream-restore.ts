// The restore half of an archive's one read: rules judged on the stream, only what must be a real file written to scratch.
import { mkdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import { loadPicomatch } from '../../src/util/picomatch.js';
import type { CheckOutcome } from '../../src/contract/check.js';
import { formatBytes } from '../../src/util/size.js';
import type { EntryContent, TarEntry } from '../../src/util/tar/entry.js';
import { readArchiveFile, type ReadArchiveResult } from '../../src/util/tar/read-archive.js';
import { createRestoreWriter, type RestoreProblem, type RestoreSummary } from '../../src/util/tar/restore-writer.js';
import { splitEntryName } from '../../src/util/tar/restore-policy.js';
import { judgeRules, runRestoreRules, type RestoreOptions, type RulesContext } from './run-rules.js';
import { bytesNeeded, checkScratchRoom, describeNoRoom, makeScratch, removeScratch } from './scratch.js';
import { createStreamRules } from './stream-rules.js';

const MAX_DETAILS = 30;

/** A restore running alongside one read of the archive. */
export interface StreamRestore {
  onEntry(entry: TarEntry, content: EntryContent): Promise<void>;
  /** Judges what the read found and runs the remaining rules; removes the scratch folder on every path. */
  finish(read: ReadArchiveResult, contentBytes: number): Promise<CheckOutcome>;
  /** Removes the scratch folder when the read failed before `finish` could run. */
  dispose(): Promise<void>;
}

/** Makes the scratch folder and the writer; a scratch base that does not exist is an outcome at once. */
export async function startStreamRestore(ctx: RulesContext, options: RestoreOptions, file: string, timeoutMs: number): Promise<StreamRestore | CheckOutcome> {
  const base = options.scratch ?? ctx.tempDir;
  const missing = await checkScratchRoom(base, 0);
  if (missing) return { status: 'failed', message: missing };
  const fs = await statfs(base);
  const free = fs.bavail * fs.bsize;
  const scratch = await makeScratch(base);
  const tree = path.join(scratch, 'tree');
  await mkdir(tree, { mode: 0o700 });
  const rules = createStreamRules(options);
  const sqliteMatch = options.sqlite === undefined ? undefined : loadPicomatch()(Buffer.from(options.sqlite, 'utf8').toString('latin1'), { dot: true });
  const chosen = new Map<number, boolean>();
  const selectedKeys = new Set<string>();
  let needed = 0;
  let noRoom = false;
  let writeError: Error | undefined;
  let needsTree = false;

  // A `command` rule sees the whole tree; otherwise only the files the sqlite rule opens are written.
  function wanted(entry: TarEntry): boolean {
    if (options.command !== undefined) return true;
    if (!sqliteMatch || (entry.type !== 'file' && entry.type !== 'hardlink')) return false;
    const split = splitEntryName(entry.name);
    if ('refused' in split || !sqliteMatch(split.key)) return false;
    if (entry.type === 'hardlink') {
      const target = splitEntryName(entry.linkTarget ?? Buffer.alloc(0));
      if ('refused' in target || !selectedKeys.has(target.key)) {
        needsTree = true;
        return false;
      }
    }
    selectedKeys.add(split.key);
    return true;
  }

  // Asked once or twice per entry by the writer: the answer (and the room it takes) is decided once.
  function select(entry: TarEntry): boolean {
    const known = chosen.get(entry.index);
    if (known !== undefined) return known;
    let write = wanted(entry);
    if (write) {
      needed += bytesNeeded(entry.size, 1);
      if (needed > free) noRoom = true;
    }
    // After a refusal, a lack of room or a failed write nothing more is written: the restore has failed.
    write &&= !noRoom && writer.problemCount() === 0 && writeError === undefined;
    chosen.set(entry.index, write);
    return write;
  }
  const writer = createRestoreWriter({ dir: tree, select });

  async function onEntry(entry: TarEntry, content: EntryContent): Promise<void> {
    const consumers = rules.consumersFor(entry);
    let contentFailed = false;
    let complete = false;
    async function* tee(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of content) {
          for (const consumer of consumers) await consumer.update(chunk);
          yield chunk;
        }
        complete = true;
      } catch (error) {
        contentFailed = true;
        throw error;
      }
    }
    const stream = tee();
    try {
      await writer.write(entry, stream);
      // What the writer did not read (an entry it does not write) still goes through the rules.
      for await (const _chunk of stream);
    } catch (error) {
      // The archive's own failure is the reader's to report; anything else is a failure to write.
      if (!contentFailed) writeError ??= error as Error;
      await drain(stream);
    }
    for (const consumer of consumers) await consumer.end(complete);
  }

  async function finish(read: ReadArchiveResult, contentBytes: number): Promise<CheckOutcome> {
    try {
      let summary: RestoreSummary | undefined;
      try {
        summary = await writer.finish();
      } catch (error) {
        writeError ??= error as Error;
      }
      const aborted: CheckOutcome = { status: 'failed', message: `restore of ${file} stopped: the run was aborted` };
      if (ctx.signal.aborted) return aborted;
      if (read.error !== undefined) return { status: 'failed', message: `${file} cannot be restored: ${read.error}` };
      if (read.entries === 0) return { status: 'failed', message: `${file} holds no entries: nothing to restore` };
      const problems = summary?.problems ?? [];
      if (problems.length > 0) return refusal(file, problems, summary?.written ?? 0);
      if (noRoom) return { status: 'failed', message: describeNoRoom(base, free, needed) };
      if (writeError !== undefined) return { status: 'failed', message: `extracting ${file} failed: ${writeError.message}` };
      const streamed = rules.finish();
      let ruleTree = tree;
      let judged = streamed.outcomes;
      if (needsTree || streamed.needsTree) {
        // A rule needs bytes that went by unjudged (a hard link to a file no rule looked at): restore it all.
        ruleTree = path.join(scratch, 'full');
        await mkdir(ruleTree, { mode: 0o700 });
        const full = await restoreWholeTree(file, ruleTree, ctx.signal);
        if (full !== undefined) return { status: 'failed', message: `extracting ${file} failed: ${full}` };
        judged = {};
      }
      const { outcomes, notes } = await runRestoreRules(ctx, options, ruleTree, timeoutMs, judged);
      if (ctx.signal.aborted) return aborted;
      return judgeRules(`${read.entries} entries (${formatBytes(contentBytes)})`, outcomes, notes);
    } finally {
      await removeScratch(scratch);
    }
  }

  return { onEntry, finish, dispose: () => removeScratch(scratch) };
}

/** A second, complete restore into `dir`, for the rare archive the one read could not judge; says what failed. */
async function restoreWholeTree(file: string, dir: string, signal: AbortSignal): Promise<string | undefined> {
  const writer = createRestoreWriter({ dir });
  try {
    const read = await readArchiveFile(file, { signal, onEntry: (entry, content) => writer.write(entry, content) });
    const summary = await writer.finish();
    if (read.error !== undefined) return read.error;
    if (summary.problems.length > 0) return `${summary.problems[0]!.name}: ${summary.problems[0]!.reason}`;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const _chunk of stream);
  } catch {
    // The reader reports its own failure.
  }
}

function refusal(file: string, problems: RestoreProblem[], written: number): CheckOutcome {
  const unsafe = problems.filter((p) => p.kind === 'refused');
  const first = (unsafe.length > 0 ? unsafe : problems)[0]!;
  const what =
    unsafe.length > 0
      ? `${unsafe.length} unsafe entr${unsafe.length === 1 ? 'y' : 'ies'}`
      : `${problems.length} entr${problems.length === 1 ? 'y lands' : 'ies land'} on a path another entry already took`;
  const kept = written === 0 ? 'nothing was extracted' : `the ${written} entries written before it to the private scratch folder were removed`;
  return {
    status: 'failed',
    message: `refused to restore ${file}: ${what}, first "${first.name}": ${first.reason}; ${kept}`,
    details: problems.slice(0, MAX_DETAILS).map((p) => `${p.name}: ${p.reason}`),
  };
}

// sqlite_backup units: an online copy with SQLite's backup API, safe while the application writes.
import { compactTimestamp } from '../../util/timestamp.js';
import { copySqlite } from '../../util/sqlite-copy.js';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rm, stat, statfs } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatDuration } from '../../util/duration.js';
import { formatBytes } from '../../util/size.js';
import { checkSqliteIntegrity } from '../../util/sqlite-integrity.js';
import type { ActionContext, ActionResult } from './types.js';

/** The placeholder every sqlite_backup dest carries, so each copy gets a new name. */
export const TIMESTAMP_PLACEHOLDER = '{timestamp}';

// Pages copied per step; between steps the event loop runs and the application may write.
const PAGES_PER_STEP = 1024;
// A write by another connection restarts the copy. When the copy has taken twice the steps it needs, the rest
// is copied in one step, from one snapshot (in WAL mode the writer is not blocked meanwhile).
const STEP_BUDGET_FACTOR = 2;



/** Copies `source` to `dest` (with {timestamp} filled in) through a temp file renamed into place only once verified. */
export async function runSqliteBackupAction(ctx: ActionContext): Promise<ActionResult> {
  const { unit } = ctx;
  if (unit.action.kind !== 'sqlite_backup') return { status: 'failed', exitCode: null, message: 'not a sqlite_backup unit' };
  const { source, dest } = unit.action;
  const fail = (message: string): ActionResult => ({ status: 'failed', exitCode: null, message });
  if (!dest.includes(TIMESTAMP_PLACEHOLDER)) {
    return fail(
      `sqlite_backup.dest must contain ${TIMESTAMP_PLACEHOLDER} so that each copy gets a new name and none is overwritten, got "${dest}"; e.g. "${path.join(path.dirname(dest), `db-${TIMESTAMP_PLACEHOLDER}.sqlite3`)}"`,
    );
  }
  const sourceInfo = await stat(source).catch(() => undefined);
  if (!sourceInfo?.isFile()) return fail(`sqlite_backup.source ${source} is not a file; expected the application's SQLite database`);

  const final = dest.split(TIMESTAMP_PLACEHOLDER).join(compactTimestamp(new Date()));
  const dir = path.dirname(final);
  await mkdir(dir, { recursive: true });
  if (await stat(final).then(() => true, () => false)) {
    return fail(`${final} already exists; rearguard never overwrites a backup (two runs within the same second?)`);
  }
  const temp = path.join(dir, `.${path.basename(final)}.${randomBytes(4).toString('hex')}.tmp`);
  const deadline = Date.now() + unit.timeoutMs;
  let stopped: 'timeout' | 'aborted' | undefined;
  const shouldStop = (): boolean => {
    if (ctx.signal.aborted) stopped = 'aborted';
    else if (Date.now() > deadline) stopped = 'timeout';
    return stopped !== undefined;
  };
  const stopResult = (): ActionResult =>
    stopped === 'aborted'
      ? { status: 'aborted', exitCode: null, message: 'terminated: the run was aborted; the partial copy was removed' }
      : { status: 'timeout', exitCode: null, message: `timed out after ${formatDuration(unit.timeoutMs)}; the partial copy was removed` };

  try {
    await ctx.note(`copying ${source} to ${temp} with the SQLite backup API`);
    const copied = await copySqlite(source, temp, { signal: ctx.signal, deadline, pagesPerStep: PAGES_PER_STEP, stepBudget: STEP_BUDGET_FACTOR });
    if (!copied.ok) {
      if (copied.stopped) {
        stopped = copied.stopped;
        return stopResult();
      }
      if (isDiskFull(copied.code, copied.message)) return fail(await describeDiskFull(source, temp, dir, sourceInfo.size, `${copied.code ?? ''} ${copied.message}`.trim()));
      return fail(`sqlite_backup of ${source} failed: ${copied.code ? `${copied.code}: ` : ''}${copied.message}`);
    }
    await ctx.note(
      `copied ${copied.totalPages} pages in ${copied.steps} steps${copied.oneStep ? ' (the application kept writing, so the rest was copied in one step)' : ''}`,
    );
    if (shouldStop()) return stopResult();

    const integrity = await checkSqliteIntegrity(temp, {
      tempDir: os.tmpdir(),
      signal: ctx.signal,
      timeoutMs: Math.max(1, deadline - Date.now()),
    });
    if (shouldStop()) return stopResult();
    if (!integrity.ok) return fail(`the copy failed integrity_check, so it was not kept: ${integrity.message.split(temp).join(final)}`);

    await syncFile(temp);
    // link() fails if `final` appeared meanwhile: an existing backup is never replaced.
    await link(temp, final);
    await syncFile(dir);
    const bytes = (await stat(final)).size;
    await ctx.note(`integrity_check ok; wrote ${final} (${formatBytes(bytes)})`);
    return { status: 'ok', exitCode: 0, message: `copied ${source} to ${final} (${formatBytes(bytes)}), integrity_check ok` };
  } catch (error) {
    if (stopped) return stopResult();
    const code = (error as NodeJS.ErrnoException).code;
    if (isDiskFull(code, (error as Error).message)) return fail(await describeDiskFull(source, temp, dir, sourceInfo.size, `${code ?? ''} ${(error as Error).message}`.trim()));
    return fail(`sqlite_backup of ${source} failed: ${code ? `${code}: ` : ''}${(error as Error).message}`);
  } finally {
    await rm(temp, { force: true });
    await rm(`${temp}-journal`, { force: true });
  }
}

/** SQLite's SQLITE_FULL and the system's ENOSPC (from the copy, the journal change, the fsync or the link) are one fault: a full disk. */
function isDiskFull(code: string | undefined, message: string): boolean {
  return code === 'ENOSPC' || code === 'SQLITE_FULL' || /\bENOSPC\b|no space left on device|database or disk is full/i.test(message);
}

/** Names the fault, the folder and the room there once the partial copy is gone, and what to do. */
async function describeDiskFull(source: string, temp: string, dir: string, sourceBytes: number, said: string): Promise<string> {
  await rm(temp, { force: true });
  await rm(`${temp}-journal`, { force: true });
  const room = await statfs(dir).then((fs) => `${formatBytes(fs.bavail * fs.bsize)} free`, () => 'free space unknown');
  return (
    `sqlite_backup of ${source} failed: no space left on device (ENOSPC) in ${dir} (${room} once the partial copy was removed; ` +
    `the database is ${formatBytes(sourceBytes)}); nothing was kept under the final name. Free space there or point sqlite_backup.dest at a larger filesystem (${said})`
  );
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Records an artifact that passed every check in its size history, once per distinct backup.
import type { ArtifactFacts } from '../../contract/check.js';
import { isSameBackup, type HistoryReader } from '../../contract/history.js';
import { appendHistory, historyFile } from '../../state/history.js';

/**
 * Appends `facts` unless the newest entry is this very backup. Returns a warning when a corrupt
 * history had to be set aside (renamed, never overwritten) to start again, or when the history could
 * not be written (a full or read-only state_dir): the backup stays verified, the run at least partial.
 */
export async function recordVerifiedSize(
  stateDir: string,
  unit: string,
  pattern: string,
  history: HistoryReader,
  facts: Partial<ArtifactFacts>,
  runId: string,
): Promise<string | undefined> {
  if (!facts.file || facts.bytes === undefined) return undefined;
  const last = (await history.read(1).catch(() => []))[0];
  if (last && isSameBackup(last, facts)) return undefined;
  let setAside: string | undefined;
  try {
    ({ setAside } = await appendHistory(stateDir, unit, pattern, {
      at: new Date().toISOString(),
      run_id: runId,
      bytes: facts.bytes,
      ...(facts.files !== undefined && { files: facts.files }),
      ...(facts.sha256 && { sha256: facts.sha256 }),
      file: facts.file,
      ...(facts.mtimeMs !== undefined && { mtime: new Date(Math.trunc(facts.mtimeMs)).toISOString() }),
    }));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code && !message.startsWith(code) ? `${code}: ${message}` : message;
    return `could not record ${facts.file} (${facts.bytes} bytes) in the size history ${historyFile(stateDir, unit, pattern)}: ${why}; the earlier history is kept as it was; free space in state_dir or make it writable`;
  }
  return setAside ? `size history was corrupt and is kept aside as ${setAside}; the size baseline starts again` : undefined;
}

// Records an artifact that passed every check in its size history, once per distinct backup.
import type { ArtifactFacts } from '../../contract/check.js';
import type { HistoryReader } from '../../contract/history.js';
import { appendHistory } from '../../state/history.js';

/**
 * Appends `facts` unless the newest entry is this very backup. Returns a warning when a corrupt
 * history had to be set aside (renamed, never overwritten) to start again.
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
  if (last && last.file === facts.file && last.bytes === facts.bytes && last.sha256 === facts.sha256) return undefined;
  const { setAside } = await appendHistory(stateDir, unit, pattern, {
    at: new Date().toISOString(),
    run_id: runId,
    bytes: facts.bytes,
    ...(facts.sha256 && { sha256: facts.sha256 }),
    file: facts.file,
  });
  return setAside ? `size history was corrupt and is kept aside as ${setAside}; the size baseline starts again` : undefined;
}

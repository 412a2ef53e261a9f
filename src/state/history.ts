// Size history per artifact in state_dir/history/: bounded, written atomically, only verified artifacts enter.
import { createHash } from 'node:crypto';
import { readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { HistoryUnreadableError, type HistoryEntry, type HistoryReader } from '../contract/history.js';
import { compactTimestamp } from '../util/timestamp.js';
import { writeFileAtomic } from './atomic.js';

/** Entries kept per artifact. */
export const HISTORY_LIMIT = 100;

/** The folder of every history file. */
export function historyDir(stateDir: string): string {
  return path.join(stateDir, 'history');
}

/** The history file of one artifact of one unit. */
export function historyFile(stateDir: string, unit: string, pattern: string): string {
  const id = createHash('sha256').update(`${unit}\0${pattern}`).digest('hex').slice(0, 16);
  return path.join(historyDir(stateDir), `${unit.replace(/[^A-Za-z0-9_.@:+-]/g, '_')}-${id}.json`);
}

/** The document stored in a history file. */
export interface HistoryDocument {
  schema: 'rearguard.history/v1';
  unit: string;
  pattern: string;
  entries: HistoryEntry[];
}

/** A history file that cannot be read as a rearguard history: it is set aside, never silently overwritten. */
export class HistoryCorruptError extends HistoryUnreadableError {
  override name = 'HistoryCorruptError';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`history file ${file} is corrupt (${problem})`, options);
  }
}

/**
 * Reads an integer byte count written as a JSON number or a string ("290940000", "2.9094e+08").
 * Returns undefined for anything that is not a whole, non-negative, safe number of bytes.
 */
export function parseByteCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+)(?:\.(\d+))?(?:[eE]\+?(\d+))?\s*$/.exec(value);
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  const exponent = Number(match[3] ?? '0');
  if (fraction.replace(/0+$/, '').length > exponent) return undefined; // not a whole number of bytes
  const digits = BigInt(match[1]! + fraction) * 10n ** BigInt(exponent - fraction.length);
  return digits <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(digits) : undefined;
}

/** Parses a history document; throws HistoryCorruptError when it is not one. Invalid entries are dropped. */
export function parseHistoryDocument(file: string, text: string): { doc: HistoryDocument; dropped: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new HistoryCorruptError(file, `not JSON: ${(error as Error).message}`, { cause: error });
  }
  const doc = raw as Partial<HistoryDocument> | null;
  if (typeof doc !== 'object' || doc === null || doc.schema !== 'rearguard.history/v1' || !Array.isArray(doc.entries)) {
    throw new HistoryCorruptError(file, 'expected {"schema": "rearguard.history/v1", "entries": [...]}');
  }
  const entries: HistoryEntry[] = [];
  for (const item of doc.entries as unknown[]) {
    const entry = item as Partial<HistoryEntry> | null;
    const bytes = parseByteCount(entry?.bytes);
    if (!entry || bytes === undefined || typeof entry.at !== 'string' || typeof entry.file !== 'string') continue;
    entries.push({
      at: entry.at,
      run_id: typeof entry.run_id === 'string' ? entry.run_id : '',
      bytes,
      ...(parseByteCount(entry.files) !== undefined && { files: parseByteCount(entry.files)! }),
      ...(typeof entry.sha256 === 'string' && { sha256: entry.sha256 }),
      file: entry.file,
      ...(typeof entry.mtime === 'string' && Number.isFinite(Date.parse(entry.mtime)) && { mtime: entry.mtime }),
    });
  }
  return {
    doc: { schema: 'rearguard.history/v1', unit: String(doc.unit ?? ''), pattern: String(doc.pattern ?? ''), entries },
    dropped: doc.entries.length - entries.length,
  };
}

/** Reads a history file; a missing file is an empty history. Throws HistoryCorruptError. */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  return (await readHistoryDocument(file))?.doc.entries ?? [];
}

/** Reads a whole history document, or undefined when the file does not exist. Throws HistoryCorruptError. */
export async function readHistoryDocument(file: string): Promise<{ doc: HistoryDocument; dropped: number } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseHistoryDocument(file, text);
}

/** A reader bound to one artifact. */
export function historyReader(stateDir: string, unit: string, pattern: string): HistoryReader {
  const file = historyFile(stateDir, unit, pattern);
  return { read: async (limit) => (await readHistory(file)).slice(-limit) };
}

/** Renames a corrupt history file to `<file>.corrupt-<timestamp>` and returns the new name. */
export async function setAsideHistory(file: string, now: Date = new Date()): Promise<string> {
  const aside = `${file}.corrupt-${compactTimestamp(now)}`;
  await rename(file, aside);
  return aside;
}

/**
 * Appends a verified artifact to its history, keeping the last HISTORY_LIMIT entries. Call under the run lock.
 * A corrupt file is set aside (renamed, not overwritten) and the history starts again; its new name is returned.
 */
export async function appendHistory(
  stateDir: string,
  unit: string,
  pattern: string,
  entry: HistoryEntry,
): Promise<{ setAside?: string }> {
  const file = historyFile(stateDir, unit, pattern);
  let previous: HistoryEntry[] = [];
  let setAside: string | undefined;
  try {
    previous = await readHistory(file);
  } catch (error) {
    if (!(error instanceof HistoryCorruptError)) throw error;
    setAside = await setAsideHistory(file);
  }
  const entries = [...previous, entry].slice(-HISTORY_LIMIT);
  const doc: HistoryDocument = { schema: 'rearguard.history/v1', unit, pattern, entries };
  await writeFileAtomic(file, `${JSON.stringify(doc, null, 1)}\n`, 0o600);
  return setAside ? { setAside } : {};
}

/** Files in state_dir/history that were set aside as corrupt, with the time in their name. */
export async function listSetAsideHistory(stateDir: string): Promise<Array<{ file: string; at: Date }>> {
  const names = await readdir(historyDir(stateDir)).catch(() => [] as string[]);
  return names
    .map((name) => ({ name, match: /\.corrupt-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(name) }))
    .filter((item) => item.match)
    .map(({ name, match }) => {
      const [, y, mo, d, h, mi, s] = match!;
      return { file: path.join(historyDir(stateDir), name), at: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`) };
    });
}

/** Every history file of a state dir, read without changing anything; corrupt ones are reported, not moved. */
export async function readAllHistories(
  stateDir: string,
): Promise<Array<{ file: string; doc?: HistoryDocument; dropped: number; problem?: string }>> {
  const dir = historyDir(stateDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).sort();
  const out: Array<{ file: string; doc?: HistoryDocument; dropped: number; problem?: string }> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const read = await readHistoryDocument(file);
      if (read) out.push({ file, doc: read.doc, dropped: read.dropped });
    } catch (error) {
      out.push({ file, dropped: 0, problem: (error as Error).message });
    }
  }
  return out;
}

/** The largest total of verified artifact bytes of one run, over the most recent `runs` runs. */
export async function largestRecentTotal(stateDir: string, runs = 14): Promise<number | undefined> {
  const totals = new Map<string, bigint>();
  for (const history of await readAllHistories(stateDir)) {
    for (const entry of history.doc?.entries ?? []) {
      totals.set(entry.run_id, (totals.get(entry.run_id) ?? 0n) + BigInt(entry.bytes));
    }
  }
  const recent = [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-runs);
  if (recent.length === 0) return undefined;
  const largest = recent.reduce((max, [, total]) => (total > max ? total : max), 0n);
  return largest > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(largest);
}

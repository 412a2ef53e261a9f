// Size history per artifact in state_dir/history/: bounded, written atomically, only verified artifacts enter.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEntry, HistoryReader } from '../../checks/types.js';
import { writeFileAtomic } from './atomic.js';

/** Entries kept per artifact. */
export const HISTORY_LIMIT = 100;

/** The history file of one artifact of one unit. */
export function historyFile(stateDir: string, unit: string, pattern: string): string {
  const id = createHash('sha256').update(`${unit}\0${pattern}`).digest('hex').slice(0, 16);
  return path.join(stateDir, 'history', `${unit.replace(/[^A-Za-z0-9_.@:+-]/g, '_')}-${id}.json`);
}

interface HistoryDocument {
  schema: 'rearguard.history/v1';
  unit: string;
  pattern: string;
  entries: HistoryEntry[];
}

/** Reads a history file; a missing file is an empty history. */
export async function readHistory(file: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const doc = JSON.parse(text) as HistoryDocument;
  if (doc.schema !== 'rearguard.history/v1' || !Array.isArray(doc.entries)) throw new Error(`${file} is not a rearguard history file`);
  return doc.entries;
}

/** A reader bound to one artifact. */
export function historyReader(stateDir: string, unit: string, pattern: string): HistoryReader {
  const file = historyFile(stateDir, unit, pattern);
  return { read: async (limit) => (await readHistory(file)).slice(-limit) };
}

/** Appends a verified artifact to its history, keeping the last HISTORY_LIMIT entries. */
export async function appendHistory(stateDir: string, unit: string, pattern: string, entry: HistoryEntry): Promise<void> {
  const file = historyFile(stateDir, unit, pattern);
  const entries = [...(await readHistory(file)), entry].slice(-HISTORY_LIMIT);
  const doc: HistoryDocument = { schema: 'rearguard.history/v1', unit, pattern, entries };
  await writeFileAtomic(file, `${JSON.stringify(doc, null, 1)}\n`, 0o600);
}

/** The largest total of verified artifact bytes of one run, over the most recent `runs` runs. */
export async function largestRecentTotal(stateDir: string, runs = 14): Promise<number | undefined> {
  const { readdir } = await import('node:fs/promises');
  const dir = path.join(stateDir, 'history');
  const files = await readdir(dir).catch(() => [] as string[]);
  const totals = new Map<string, number>();
  for (const name of files.filter((f) => f.endsWith('.json'))) {
    const entries = await readHistory(path.join(dir, name)).catch(() => [] as HistoryEntry[]);
    for (const entry of entries) totals.set(entry.run_id, (totals.get(entry.run_id) ?? 0) + entry.bytes);
  }
  const recent = [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).slice(-runs);
  return recent.length === 0 ? undefined : Math.max(...recent.map(([, total]) => total));
}

// Reads `pgbackrest info --output=json` and picks the backup set an artifact means (pure).

/** The backup types pgBackRest makes. */
export type BackupType = 'full' | 'diff' | 'incr';

/** One backup set as rearguard uses it. */
export interface BackupSet {
  label: string;
  type: string;
  /** Set when pgBackRest found errors (e.g. page checksum failures) while taking it. */
  error: boolean;
  startMs: number;
  stopMs: number;
  /**
   * The database size the set restores ("database size" in pgBackRest's words): the same measure for full, diff and
   * incr sets, where what a set stores in the repository is its changes only, compressed.
   */
  databaseBytes: number;
  repoKey?: number;
}

/** What the newest set of a stanza turned out to be: usable, or why not. */
export type SetChoice = { ok: true; set: BackupSet; count: number } | { ok: false; message: string };

/** Picks the JSON document out of the command's output, which may also hold warnings pgBackRest printed. */
export function extractInfoJson(output: string): unknown {
  const line = output.split('\n').find((text) => text.startsWith('['));
  if (line === undefined) throw new Error('pgbackrest info printed no JSON');
  return JSON.parse(line) as unknown;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberAt = (value: unknown, ...keys: string[]): number | undefined => {
  let at: unknown = value;
  for (const key of keys) at = isRecord(at) ? at[key] : undefined;
  return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
};

/** Parses one backup entry; undefined when it lacks what every check needs. */
function parseSet(entry: unknown): BackupSet | undefined {
  if (!isRecord(entry) || typeof entry.label !== 'string' || typeof entry.type !== 'string') return undefined;
  const start = numberAt(entry, 'timestamp', 'start');
  const stop = numberAt(entry, 'timestamp', 'stop');
  const databaseBytes = numberAt(entry, 'info', 'size');
  if (start === undefined || stop === undefined || databaseBytes === undefined) return undefined;
  const repoKey = numberAt(entry, 'database', 'repo-key');
  return {
    label: entry.label,
    type: entry.type,
    error: entry.error === true,
    startMs: start * 1000,
    stopMs: stop * 1000,
    databaseBytes,
    ...(repoKey !== undefined && { repoKey }),
  };
}

/**
 * Chooses the newest set of `stanza` from the parsed info document. A stanza pgBackRest reports in
 * error, a set flagged `error`, or a set of another type than `expectType` is refused with the reason.
 */
export function chooseNewestSet(doc: unknown, stanza: string, expectType?: BackupType): SetChoice {
  if (!Array.isArray(doc)) return { ok: false, message: 'pgbackrest info did not print a list of stanzas' };
  const entry: unknown = (doc as unknown[]).find((item) => isRecord(item) && item.name === stanza);
  if (!isRecord(entry)) return { ok: false, message: `pgbackrest info does not list stanza "${stanza}": check the stanza name and the config file` };
  const code = numberAt(entry, 'status', 'code');
  const sets = (Array.isArray(entry.backup) ? entry.backup : []).map(parseSet).filter((set): set is BackupSet => set !== undefined);
  // Code 2 is "no valid backups": reported below as no set, with what to do.
  if (code !== undefined && code !== 0 && code !== 2) {
    const message = isRecord(entry.status) && typeof entry.status.message === 'string' ? entry.status.message : `status code ${code}`;
    return { ok: false, message: `stanza "${stanza}" is unusable: ${message} (pgbackrest status code ${code}); run pgbackrest info --stanza=${stanza} to see why` };
  }
  if (sets.length === 0) return { ok: false, message: `stanza "${stanza}" has no backup set yet: run pgbackrest backup --stanza=${stanza}` };
  const newest = sets.reduce((a, b) => (b.stopMs > a.stopMs || (b.stopMs === a.stopMs && b.label > a.label) ? b : a));
  if (newest.error) {
    return { ok: false, message: `the newest backup set ${newest.label} of stanza "${stanza}" is flagged in error (pgBackRest found problems, e.g. page checksum failures, while taking it): investigate it and take a new backup` };
  }
  if (expectType && newest.type !== expectType) {
    return { ok: false, message: `the newest backup set ${newest.label} of stanza "${stanza}" is ${newest.type === 'incr' ? 'an' : 'a'} ${newest.type} backup, but type: ${expectType} is expected: check the unit's --type` };
  }
  return { ok: true, set: newest, count: sets.length };
}

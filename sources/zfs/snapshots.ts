// Reads `zfs get -Hp -o name,property,value creation,used,referenced` and finds each dataset's newest snapshot (pure).

/** One snapshot and the numbers rearguard uses. */
export interface Snapshot {
  /** pool/dataset@name */
  name: string;
  dataset: string;
  /** Seconds since the epoch: ZFS keeps creation to the second. */
  creation: number;
  /** Space only this snapshot holds. */
  used: number;
  /** All the data the snapshot refers to: what a full send or a clone carries. */
  referenced: number;
}

/** The newest snapshot of every dataset that has one, and the datasets that have none. */
export interface NewestSnapshots {
  newest: Snapshot[];
  without: string[];
}

/**
 * Groups the property lines by dataset. zfs lists a dataset's snapshots in creation order (by
 * transaction group), so among snapshots made in the same second the later line is the newer.
 */
export function parseNewestSnapshots(output: string, only?: string): NewestSnapshots {
  const props = new Map<string, Record<string, number>>();
  const datasets: string[] = [];
  for (const line of output.split('\n')) {
    const [name, property, value] = line.split('\t');
    if (!name || !property || value === undefined) continue;
    // Depth 1 also lists the dataset's children; without recursion only the dataset itself counts.
    if (only !== undefined && name !== only && !name.startsWith(`${only}@`)) continue;
    if (!name.includes('@')) {
      if (!datasets.includes(name)) datasets.push(name);
      continue;
    }
    const entry = props.get(name) ?? {};
    entry[property] = Number(value);
    props.set(name, entry);
  }
  const newest = new Map<string, Snapshot>();
  for (const [name, entry] of props) {
    const dataset = name.slice(0, name.indexOf('@'));
    const snapshot = { name, dataset, creation: entry.creation ?? 0, used: entry.used ?? 0, referenced: entry.referenced ?? 0 };
    const current = newest.get(dataset);
    if (!current || snapshot.creation >= current.creation) newest.set(dataset, snapshot);
  }
  return { newest: datasets.flatMap((dataset) => newest.get(dataset) ?? []), without: datasets.filter((dataset) => !newest.has(dataset)) };
}

// Finding each dataset's newest snapshot in `zfs get -Hp -o name,property,value` output (as zfs-fuse and OpenZFS print it).
import { describe, expect, it } from 'vitest';
import { zfsSource } from '../../../sources/zfs.js';
import { snapshotQuery } from '../../../sources/zfs/command.js';
import { parseSendEstimate } from '../../../sources/zfs/send.js';
import { parseNewestSnapshots } from '../../../sources/zfs/snapshots.js';

const output = [
  'tank/app\tcreation\t1795397296',
  'tank/app\tused\t306688',
  'tank/app\treferenced\t287232',
  'tank/app@one\tcreation\t1795397297',
  'tank/app@one\tused\t19456',
  'tank/app@one\treferenced\t23040',
  // Same second as @one: listed later, so made later.
  'tank/app@two\tcreation\t1795397297',
  'tank/app@two\tused\t0',
  'tank/app@two\treferenced\t287232',
  'tank/app/logs\tcreation\t1795397296',
  'tank/app/logs\treferenced\t19456',
  '',
].join('\n');

describe('parseNewestSnapshots', () => {
  it('takes the newest snapshot of each dataset, the later line winning within one second', () => {
    expect(parseNewestSnapshots(output, 'tank/app')).toEqual({
      newest: [{ name: 'tank/app@two', dataset: 'tank/app', creation: 1795397297, used: 0, referenced: 287232 }],
      without: [],
    });
  });

  it('recursively, reports the datasets that have no snapshot', () => {
    expect(parseNewestSnapshots(output)).toEqual({ newest: [expect.objectContaining({ name: 'tank/app@two' })], without: ['tank/app/logs'] });
  });

  it('does not mistake a sibling with the same prefix for the dataset', () => {
    expect(parseNewestSnapshots('tank/application@x\tcreation\t5\n', 'tank/app')).toEqual({ newest: [], without: [] });
  });
});

describe('zfs commands', () => {
  it('asks only for exact numbers, one level deep unless recursive', () => {
    expect(snapshotQuery({ dataset: 'tank/app' })).toEqual(['get', '-Hp', '-r', '-d', '1', '-o', 'name,property,value', 'creation,used,referenced', 'tank/app']);
    expect(snapshotQuery({ dataset: 'tank', recursive: true })).toEqual(['get', '-Hp', '-r', '-o', 'name,property,value', 'creation,used,referenced', 'tank']);
  });

  it("reads OpenZFS's dry-run estimate", () => {
    expect(parseSendEstimate('full\ttank/app@two\t312345\nsize\t312345\n')).toBe(312345);
    expect(parseSendEstimate("invalid option 'n'\n")).toBeUndefined();
  });
});

describe('zfs config', () => {
  it('takes a dataset, refuses a snapshot name in its place', () => {
    const { schema } = zfsSource.config;
    expect(schema.safeParse({ dataset: 'tank/app', recursive: true }).success).toBe(true);
    expect(schema.safeParse({ dataset: 'tank/app@daily' }).success).toBe(false);
    expect(zfsSource.name({ dataset: 'tank/app', recursive: true, host: 'nas' })).toBe('zfs tank/app (recursive) on nas');
  });
});

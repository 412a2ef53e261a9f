// ZFS as an artifact source, on a real file-backed pool served by zfs-fuse: locate, send proof, clone-and-check restore.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zfsSource, type ZfsOptions } from '../../sources/zfs.js';
import type { LocatedBackup, SourceContext } from '../../src/contract/source.js';
import { createExec, type RunExec } from '../../src/exec/index.js';
import { createZfsPool, requireZfs, type ZfsPool } from '../helpers/zfs-pool.js';

const available = requireZfs();

describe.runIf(available)('ZFS snapshot artifacts', () => {
  let pool: ZfsPool;
  let exec: RunExec;
  const ctx = (options: Partial<ZfsOptions> = {}): SourceContext<ZfsOptions> => ({
    options: { dataset: `${pool.name}/app`, ...options },
    exec,
    signal: new AbortController().signal,
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    timeoutMs: 60_000,
  });
  const locate = async (options: Partial<ZfsOptions> = {}): Promise<LocatedBackup> => {
    const location = await zfsSource.locate(ctx(options));
    if (!location.found) throw new Error(location.message);
    return location.backup;
  };
  const clones = async (): Promise<string[]> => (await pool.zfs(['list', '-H', '-o', 'name'])).split('\n').filter((name) => name.includes('rearguard-restore'));

  beforeAll(async () => {
    pool = await createZfsPool();
    exec = createExec({ hosts: {}, stateDir: os.tmpdir() });
    await pool.createDataset('app');
    await pool.createDataset('app/uploads');
    await pool.createDataset('empty');
    await pool.writeFile('app', 'small.bin', 10_000);
    await pool.snapshot('app', 'first');
    await pool.writeFile('app', 'big.bin', 400_000);
    await pool.snapshot('app', 'second');
    await pool.snapshot('empty', 'nothing');
  });
  afterAll(async () => {
    await exec?.close();
    await pool?.destroy();
  });

  it('locates the newest snapshot of the dataset, its creation time and what it refers to', async () => {
    const backup = await locate();
    expect(backup.id).toBe(`${pool.name}/app@second`);
    expect(backup.location).toBe(`${pool.name}/app@second`);
    expect(backup.completedAtMs).toBeLessThanOrEqual(Date.now());
    expect(backup.completedAtMs % 1000).toBe(0);
    expect(backup.bytes).toBeGreaterThan(400_000);
  });

  it('recursive: a child dataset without a snapshot fails, naming it; with one, the oldest newest snapshot dates the backup', async () => {
    const missing = await zfsSource.locate(ctx({ recursive: true }));
    expect(missing).toEqual({ found: false, message: `1 dataset(s) of zfs ${pool.name}/app (recursive) have no snapshot: ${pool.name}/app/uploads; the snapshot job did not cover them` });
    await pool.snapshot('app/uploads', 'second');
    const both = await locate({ recursive: true });
    expect(both.id).toBe(`${pool.name}/app@second ${pool.name}/app/uploads@second`);
    expect(both.location).toMatch(/: 2 snapshots, oldest /);
  });

  it('a dataset that does not exist is a clear failure', async () => {
    const location = await zfsSource.locate(ctx({ dataset: `${pool.name}/nosuch` }));
    expect(location.found).toBe(false);
    if (!location.found) expect(location.message).toMatch(new RegExp(`listing the snapshots of zfs ${pool.name}/nosuch failed \\(exited with 1\\): .*does not exist; check the dataset name`));
  });

  it('check: the newest snapshot can be sent; a snapshot gone since it was located cannot', async () => {
    const backup = await locate();
    const sent = await zfsSource.verify!(ctx(), backup, {});
    expect(sent.ok, sent.message).toBe(true);
    expect(sent.details?.[0]).toMatch(new RegExp(`^${pool.name}/app@second: (sent in full and discarded|\\d+ bytes estimated)$`));
    const gone = await zfsSource.verify!(ctx(), { ...backup, id: `${pool.name}/app@vanished` }, {});
    expect(gone.ok).toBe(false);
    expect(gone.message).toMatch(/zfs send .*app@vanished failed .*does not exist/);
  });

  it('restore: the snapshot is cloned read-only, its files copied out whole, the clone destroyed', async () => {
    const backup = await locate();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-zfs-restore-'));
    try {
      const restored = await zfsSource.restore!(ctx(), backup, dir, []);
      expect(restored.ok, restored.message).toBe(true);
      expect((await readdir(dir)).sort()).toEqual(['big.bin', 'small.bin', 'uploads']);
      expect(await readFile(path.join(dir, 'big.bin'))).toEqual(await readFile(path.join(pool.mountOf('app'), 'big.bin')));
      expect(await clones()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restore: only the include paths; an empty snapshot fails and leaves no clone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-zfs-restore-'));
    try {
      const restored = await zfsSource.restore!(ctx(), await locate(), dir, ['small.bin']);
      expect(restored.ok, restored.message).toBe(true);
      expect(await readdir(dir)).toEqual(['small.bin']);
      const empty = await zfsSource.restore!(ctx({ dataset: `${pool.name}/empty` }), await locate({ dataset: `${pool.name}/empty` }), dir, []);
      expect(empty).toEqual({ ok: false, message: `${pool.name}/empty@nothing is empty: its clone holds no file` });
      expect(await clones()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

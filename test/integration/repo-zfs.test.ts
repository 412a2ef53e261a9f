// ZFS as an artifact source, on a real file-backed pool served by zfs-fuse: locate, send proof, clone-and-check restore.
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zfsSource, type ZfsOptions } from '../../sources/zfs.js';
import type { LocatedBackup, SourceContext } from '../../src/contract/source.js';
import { createExec, type RunExec } from '../../src/exec/index.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { resolvedHostFor, startSshd } from '../helpers/sshd.js';
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
    expect(await zfsSource.locate(ctx({ dataset: `${pool.name}/app/uploads` }))).toEqual({ found: false, message: `zfs ${pool.name}/app/uploads has no snapshot yet: run the snapshot job` });
    const missing = await zfsSource.locate(ctx({ recursive: true }));
    expect(missing).toEqual({ found: false, message: `1 dataset(s) of zfs ${pool.name}/app (recursive) have no snapshot: ${pool.name}/app/uploads; the snapshot job did not cover them` });
    await pool.snapshot('app/uploads', 'second');
    const both = await locate({ recursive: true });
    expect(both.id).toBe(`${pool.name}/app@second ${pool.name}/app/uploads@second`);
    expect(both.location).toMatch(/: 2 snapshots, oldest /);
  });

  it.runIf(requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']))('host: zfs runs over SSH: the same snapshot, sendable there; a clone is refused', async () => {
    const sshd = await startSshd();
    const remote = createExec({ hosts: { nas: resolvedHostFor(sshd) }, stateDir: pool.dir });
    try {
      const local = await locate();
      const over = await zfsSource.locate({ ...ctx({ host: 'nas' }), exec: remote });
      expect(over).toEqual({ found: true, backup: { ...local, location: `${local.id} on nas` } });
      if (!over.found) return;
      const sent = await zfsSource.verify!({ ...ctx({ host: 'nas' }), exec: remote }, over.backup, {});
      expect(sent.ok, sent.message).toBe(true);
      const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-zfs-restore-'));
      const restored = await zfsSource.restore!({ ...ctx({ host: 'nas' }), exec: remote }, over.backup, dir, []);
      await rm(dir, { recursive: true, force: true });
      expect(restored).toMatchObject({ ok: false, message: expect.stringMatching(/^a clone of a snapshot on nas cannot be read here/) });
    } finally {
      await remote.close();
      await sshd.stop();
    }
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

  it('a damaged pool: corrupted blocks in its backing file, found by a scrub, fail the check naming the pool and the file', async () => {
    const damaged = await createZfsPool();
    try {
      await damaged.createDataset('d');
      await damaged.writeFile('d', 'victim.bin', 1024 * 1024);
      await damaged.snapshot('d', 's');
      const content = await readFile(path.join(damaged.mountOf('d'), 'victim.bin'));
      const check = (): ReturnType<NonNullable<typeof zfsSource.verify>> =>
        zfsSource.verify!({ ...ctx({ dataset: `${damaged.name}/d` }) }, { id: `${damaged.name}/d@s`, location: '', completedAtMs: 0, bytes: 0 }, {});
      expect((await check()).ok).toBe(true);
      // Out of the pool's hands while its disk is damaged: no cache serves the old blocks afterwards.
      await execa('zpool', ['export', damaged.name]);
      const disk = path.join(damaged.dir, 'disk');
      const bytes = await readFile(disk);
      let hits = 0;
      // Every 128 KiB record of the file (no compression): flip a stretch of each wherever it lies on disk.
      for (let at = 0; at < content.length; at += 128 * 1024) {
        const offset = bytes.indexOf(content.subarray(at, at + 4096));
        if (offset < 0) continue;
        for (let i = offset; i < offset + 512; i += 1) bytes[i] = bytes[i]! ^ 0xff;
        hits += 1;
      }
      expect(hits).toBeGreaterThan(0);
      await writeFile(disk, bytes);
      await execa('zpool', ['import', '-d', damaged.dir, damaged.name]);
      // A scrub reads every block; both zfs-fuse and OpenZFS accept 'zpool scrub' and report it in 'zpool status'.
      await execa('zpool', ['scrub', damaged.name]);
      for (let i = 0; i < 200 && /scrub in progress/.test((await execa('zpool', ['status', damaged.name])).stdout); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
      const outcome = await check();
      expect(outcome.ok).toBe(false);
      expect(outcome.message).toMatch(new RegExp(`^pool ${damaged.name} is \\S+ and reports: .*errors.* \\(.*victim\\.bin\\); the snapshots on it may not be readable`, 'i'));
      expect(outcome.details?.join('\n')).toContain('victim.bin');
    } finally {
      await damaged.destroy();
    }
  });

  describe('through the CLI', () => {
    let ws: Workspace;
    beforeAll(async () => {
      ws = await makeWorkspace('rg-zfscli-');
      await pool.createDataset('site');
      await pool.writeFile('site', 'index.html', 20_000);
      await pool.writeFile('site', 'media.bin', 600_000);
    });
    afterAll(async () => {
      await ws?.cleanup();
    });

    // The snapshot name changes every run; the shell is the config's explicit choice, as a user's would be.
    const snapshotUnit = `shell: "zfs snapshot ${'$'}{POOL}/site@run-$(date +%s%N)"`;
    const orchestrate = async (unit: string) => {
      await ws.write(
        'rearguard.yml',
        `version: 1
stages:
  - name: snapshots
    units:
      - name: zfs-site
        ${unit}
        env: { POOL: ${pool.name} }
        timeout: 1m
        artifacts:
          - zfs: { dataset: ${pool.name}/site }
            size: { max_shrink: 30% }
            check: true
            restore: {}
`,
      );
      const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
      const report = await ws.readJson<any>('r.json');
      const checks: any[] = report.stages[0].units[0].artifacts[0].checks;
      return { ...result, report, checks, check: (id: string) => checks.find((c) => c.id === id) };
    };

    it('a snapshot taken by the unit is fresh, sized, sendable and restorable: exit 0', async () => {
      const result = await orchestrate(snapshotUnit);
      expect(result.checks.map((c) => `${c.id}:${c.status}`), result.stdout).toEqual(['exists:ok', 'fresh:ok', 'size:ok', 'repository:ok', 'restore:ok']);
      expect(result.report.stages[0].units[0].artifacts[0].path).toMatch(new RegExp(`^${pool.name}/site@run-\\d+$`));
      expect(result.exitCode).toBe(0);
      expect(await clones()).toEqual([]);
    });

    it('a unit that exits 0 without a new snapshot fails fresh', async () => {
      // ZFS keeps creation to the second: start once the clock has left the newest snapshot's second.
      const created = Number((await pool.zfs(['get', '-Hp', '-o', 'value', 'creation', (await locate({ dataset: `${pool.name}/site` })).id])).trim());
      while (Math.floor(Date.now() / 1000) <= created) await new Promise((resolve) => setTimeout(resolve, 50));
      const result = await orchestrate('run: [/bin/true]');
      expect(result.check('fresh')).toMatchObject({ status: 'failed', message: expect.stringMatching(/before the unit started .*: the unit did not produce a new backup/) });
      expect(result.exitCode).toBe(2);
    });

    it('a snapshot that refers to much less data than the last ones fails size', async () => {
      await rm(path.join(pool.mountOf('site'), 'media.bin'));
      const result = await orchestrate(snapshotUnit);
      expect(result.check('size')).toMatchObject({ status: 'failed', message: expect.stringMatching(/shrank .* max_shrink is 30%/) });
      expect(result.exitCode).toBe(2);
    });
  });
});

// The seed-shaped pipeline: ZFS snapshots (warning level) → pgBackRest full backup (critical) → three restic jobs at
// once, each unit verified by its repository artifact; one silently broken unit at a time moves the answer to 1 or 2.
import { execa } from 'execa';
import { chmod } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOBODY } from '../helpers/as-user.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requirePgBackRest, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { requireTool } from '../helpers/require-tool.js';
import { createZfsPool, requireZfs, type ZfsPool } from '../helpers/zfs-pool.js';

const available = requirePgBackRest() && requireZfs() && requireTool('restic', 'apt-get install restic');
const RESTIC_JOBS = ['photos', 'documents', 'mail'] as const;
const PASSWORD = 'pipeline-restic-secret-0815';

type Broken = 'none' | 'zfs' | 'pgbackrest' | 'restic-documents';

describe.runIf(available)('pipeline: ZFS → pgBackRest → restic, each verified by its repository', () => {
  let ws: Workspace;
  let pool: ZfsPool;
  let cluster: PgCluster;
  let passwordFile: string;

  beforeAll(async () => {
    ws = await makeWorkspace('rg-pipeline-');
    await chmod(ws.dir, 0o711);
    pool = await createZfsPool();
    await pool.createDataset('app');
    await pool.writeFile('app', 'state.bin', 200_000);
    cluster = await startPgCluster();
    await cluster.psql("CREATE TABLE events AS SELECT g AS id, 'event ' || g AS note FROM generate_series(1, 5000) g");
    passwordFile = await ws.write('restic-password', `${PASSWORD}\n`);
    // A secret others can read is itself a warning; this one is private, as it should be.
    await chmod(passwordFile, 0o600);
    for (const job of RESTIC_JOBS) {
      await ws.write(`data/${job}/index.txt`, `${job}\n`.repeat(5000));
      await execa('restic', ['-r', ws.file(`repos/${job}`), '--no-cache', 'init'], { env: { RESTIC_PASSWORD_FILE: passwordFile } });
    }
  });
  afterAll(async () => {
    // Every cleanup runs even when one fails; the first failure is reported after.
    const results = await Promise.allSettled([cluster?.stop(), pool?.destroy(), ws?.cleanup()]);
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  });

  const config = (broken: Broken): string => {
    const fake = '[/bin/true]';
    const zfsUnit = broken === 'zfs' ? `run: ${fake}` : `shell: "zfs snapshot ${pool.name}/app@run-$(date +%s%N)"`;
    const pgUnit =
      broken === 'pgbackrest'
        ? `run: ${fake}`
        : `run: [setpriv, --reuid=${NOBODY.uid}, --regid=${NOBODY.gid}, --clear-groups, --, pgbackrest, --config=${cluster.config}, --stanza=main, backup, --type=full]`;
    const resticUnits = RESTIC_JOBS.map((job) => {
      const run = broken === `restic-${job}` ? fake : `[restic, -r, ${ws.file(`repos/${job}`)}, --no-cache, backup, ${ws.file(`data/${job}`)}]`;
      return `      - name: restic-${job}
        run: ${run}
        env: { RESTIC_PASSWORD_FILE: ${passwordFile} }
        timeout: 2m
        artifacts:
          - restic: { repo: ${ws.file(`repos/${job}`)}, password_file: ${passwordFile} }`;
    });
    return `version: 1
stages:
  - name: snapshots
    level: warning
    units:
      - name: zfs-app
        ${zfsUnit}
        timeout: 1m
        artifacts:
          - zfs: { dataset: ${pool.name}/app }
  - name: database
    units:
      - name: pgbackrest-full
        ${pgUnit}
        timeout: 3m
        critical: true
        artifacts:
          - pgbackrest: { stanza: main, config: ${cluster.config}, type: full }
  - name: restic
    concurrency: 3
    units:
${resticUnits.join('\n')}
`;
  };
  const orchestrate = async (broken: Broken) => {
    await ws.write('rearguard.yml', config(broken));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir, env: { PATH: cluster.path } });
    const report = await ws.readJson<any>('r.json');
    const failed = report.stages.flatMap((stage: any) => stage.units).filter((unit: any) => unit.status !== 'ok').map((unit: any) => unit.name);
    for (const text of [result.stdout, result.stderr, JSON.stringify(report)]) expect(text).not.toContain(PASSWORD);
    return { ...result, report, failed };
  };

  it('every backup made and proven: exit 0', async () => {
    const result = await orchestrate('none');
    expect(result.failed, result.stdout).toEqual([]);
    expect(result.exitCode, result.stdout).toBe(0);
    const artifacts = result.report.stages.flatMap((stage: any) => stage.units.map((unit: any) => unit.artifacts[0].path));
    expect(artifacts).toEqual([
      expect.stringMatching(new RegExp(`^${pool.name}/app@run-\\d+$`)),
      expect.stringMatching(/^pgbackrest stanza main, full backup set \d{8}-\d{6}F$/),
      ...RESTIC_JOBS.map(() => expect.stringContaining('restic')),
    ]);
  });

  it('a snapshot job that exits 0 without a snapshot: warning stage, exit 1', async () => {
    const result = await orchestrate('zfs');
    expect(result.failed).toEqual(['zfs-app']);
    expect(result.stdout).toMatch(/did not produce a new backup/);
    expect(result.exitCode).toBe(1);
  });

  it('one restic job of three that exits 0 without a snapshot: below the failure ratio, exit 1', async () => {
    const result = await orchestrate('restic-documents');
    expect(result.failed).toEqual(['restic-documents']);
    expect(result.exitCode).toBe(1);
  });

  it('a pgBackRest job that exits 0 without a backup set: critical, exit 2', async () => {
    const result = await orchestrate('pgbackrest');
    expect(result.failed).toEqual(['pgbackrest-full']);
    expect(result.exitCode).toBe(2);
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\): critical unit failed: pgbackrest-full/);
  });

  it('audit finds every repository artifact in place and changes nothing', async () => {
    await ws.write('rearguard.yml', config('none'));
    const snapshotsBefore = await pool.zfs(['list', '-H', '-t', 'snapshot', '-o', 'name']);
    const setsBefore = (await cluster.pgbackrest(['info'])).output;
    const result = await runCli(['audit', '--json', 'audit.json'], { cwd: ws.dir, env: { PATH: cluster.path } });
    const report = await ws.readJson<any>('audit.json');
    const exists = report.stages.flatMap((stage: any) => stage.units.map((unit: any) => `${unit.name}:${unit.artifacts[0].checks.find((c: any) => c.id === 'exists')?.status}`));
    expect(exists, result.stdout).toEqual(['zfs-app:ok', 'pgbackrest-full:ok', ...RESTIC_JOBS.map((job) => `restic-${job}:ok`)]);
    expect(await pool.zfs(['list', '-H', '-t', 'snapshot', '-o', 'name'])).toBe(snapshotsBefore);
    expect((await cluster.pgbackrest(['info'])).output).toBe(setsBefore);
  });
});

// pgBackRest as an artifact source, against a real cluster archiving into a real repository: locate, verify, restore.
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbackrestSource, type PgBackRestSourceOptions } from '../../sources/pgbackrest.js';
import type { LocatedBackup, SourceContext } from '../../src/contract/source.js';
import { createExec, type RunExec } from '../../src/exec/index.js';
import { requirePgBackRest, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const available = requirePgBackRest();

/** Processes whose command line mentions `needle` (e.g. a scratch folder): none may outlive a restore test. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone while we looked
    }
  }
  return found;
}

describe.runIf(available)('pgBackRest repository artifacts', () => {
  let cluster: PgCluster;
  let exec: RunExec;
  let scratchBase: string;
  const ctx = (options: Partial<PgBackRestSourceOptions> = {}, signal = new AbortController().signal): SourceContext<PgBackRestSourceOptions> => ({
    options: { stanza: cluster.stanza, config: cluster.config, run_as: 'nobody', ...options },
    exec,
    signal,
    env: { PATH: cluster.path, LC_ALL: 'C' },
    timeoutMs: 120_000,
  });
  const locate = async (options: Partial<PgBackRestSourceOptions> = {}): Promise<LocatedBackup> => {
    const location = await pgbackrestSource.locate(ctx(options));
    if (!location.found) throw new Error(location.message);
    return location.backup;
  };

  beforeAll(async () => {
    cluster = await startPgCluster();
    exec = createExec({ hosts: {}, stateDir: os.tmpdir() });
    // Like /tmp, the base lets the server's user pass through to the scratch folder a restore opens for it.
    scratchBase = await mkdtemp(path.join(os.tmpdir(), 'rg-pgr-'));
    await chmod(scratchBase, 0o711);
    await cluster.psql('CREATE DATABASE shop');
    await cluster.psql("CREATE TABLE orders AS SELECT g AS id, 'order ' || g AS note FROM generate_series(1, 2000) g", 'shop');
    const backup = await cluster.pgbackrest(['backup', '--type=full']);
    expect(backup.exitCode, backup.output).toBe(0);
  });
  afterAll(async () => {
    await exec?.close();
    await cluster?.stop();
    if (scratchBase) await rm(scratchBase, { recursive: true, force: true });
  });

  it('locates the newest set: its label, its stop time and its size in the repository', async () => {
    const before = Date.now();
    const backup = await locate();
    expect(backup.id).toMatch(/^\d{8}-\d{6}F$/);
    expect(backup.location).toBe(`pgbackrest stanza main, full backup set ${backup.id}`);
    expect(backup.completedAtMs).toBeLessThanOrEqual(before);
    expect(backup.bytes).toBeGreaterThan(1_000_000);
  });

  it('an unknown stanza, or a config file that is not there, is a clear failure', async () => {
    const unknown = await pgbackrestSource.locate(ctx({ stanza: 'nosuch' }));
    expect(unknown.found).toBe(false);
    if (!unknown.found) expect(unknown.message).toMatch(/stanza "nosuch" is unusable: missing stanza path/);
    const noConfig = await pgbackrestSource.locate(ctx({ config: path.join(cluster.dir, 'missing.conf') }));
    expect(noConfig.found).toBe(false);
    if (!noConfig.found) expect(noConfig.message).toMatch(/pgbackrest info for pgbackrest stanza main failed \(exited with \d+\): .*missing\.conf/);
  });

  it('an incremental set fails where type: full is expected, and is the newest set otherwise', async () => {
    const incr = await cluster.pgbackrest(['backup', '--type=incr']);
    expect(incr.exitCode, incr.output).toBe(0);
    const newest = await locate();
    expect(newest.id).toMatch(/F_\d{8}-\d{6}I$/);
    const wrongType = await pgbackrestSource.locate(ctx({ type: 'full' }));
    expect(wrongType.found).toBe(false);
    if (!wrongType.found) expect(wrongType.message).toContain(`${newest.id} of stanza "main" is a incr backup, but type: full is expected`);
  });

  it('verify passes on a sound repository and fails on a damaged file, naming it', async () => {
    const backup = await locate();
    const sound = await pgbackrestSource.verify!(ctx(), backup, {});
    expect(sound.ok, `${sound.message}\n${sound.details?.join('\n')}`).toBe(true);

    // Damage one data file of the full set in place, then put its bytes back.
    const setDir = path.join(cluster.repo, 'backup', cluster.stanza, backup.id.split('_')[0]!, 'pg_data', 'base', '1');
    const victim = path.join(setDir, (await readdir(setDir)).find((name) => /^\d+$/.test(name))!);
    const original = await readFile(victim);
    const damaged = Buffer.from(original);
    damaged.write('DAMAGED!', 0, 'latin1');
    await writeFile(victim, damaged);
    try {
      const broken = await pgbackrestSource.verify!(ctx(), backup, {});
      expect(broken.ok).toBe(false);
      expect(broken.message).toMatch(/found damage: .*invalid/);
      expect(broken.details?.join('\n')).toContain('checksum invalid');
    } finally {
      await writeFile(victim, original);
    }
  });

  it('restore test: restores into scratch, starts a private server on a socket there, queries it, leaves nothing running', async () => {
    const backup = await locate();
    const dir = await mkdtemp(path.join(scratchBase, 'ok-'));
    const outcome = await pgbackrestSource.restore!(ctx({ sql: ['SELECT count(*) FROM pg_class'] }), backup, dir, []);
    expect(outcome.ok, `${outcome.message}\n${outcome.details?.join('\n')}`).toBe(true);
    expect(outcome.message).toMatch(/restored, started on a private socket and queried: 3 row\(s\) \(postgres, shop, template1\); 1 more statement/);
    expect(processesMentioning(dir)).toEqual([]);
    expect(await readdir(path.join(dir, 'sock'))).toEqual([]);
    // Nothing was archived from the restored server into the repository: no second timeline.
    const archived = await readdir(path.join(cluster.repo, 'archive', cluster.stanza));
    expect(archived.join(' ')).not.toMatch(/00000002\.history/);
    await rm(dir, { recursive: true, force: true });
  });

  it('restore test: a query that fails fails the test, and the server is stopped all the same', async () => {
    const backup = await locate();
    const dir = await mkdtemp(path.join(scratchBase, 'bad-query-'));
    const outcome = await pgbackrestSource.restore!(ctx({ query: 'SELECT * FROM no_such_table' }), backup, dir, []);
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/started, but "SELECT \* FROM no_such_table" failed: .*does not exist/);
    expect(processesMentioning(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('restore test: a set that does not start is a failed restore test', async () => {
    const backup = await locate();
    const dir = await mkdtemp(path.join(scratchBase, 'no-start-'));
    // A server that cannot start: a setting PostgreSQL refuses, given as the restore's extra binary folder would not do.
    const outcome = await pgbackrestSource.restore!(ctx({ pg_bin: path.join(cluster.dir, 'no-bin') }), backup, dir, []);
    expect(outcome.ok).toBe(false);
    expect(outcome.message).toMatch(/was restored, but PostgreSQL did not start .*cannot be started/);
    expect(processesMentioning(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });

  it('restore test: an abort while the server runs stops it and its clients', async () => {
    const backup = await locate();
    const dir = await mkdtemp(path.join(scratchBase, 'abort-'));
    const controller = new AbortController();
    const restoring = pgbackrestSource.restore!(ctx({ query: 'SELECT pg_sleep(120)' }, controller.signal), backup, dir, []);
    // The fixed point: the private server's socket exists, so the server is up and the query is on its way.
    const socket = path.join(dir, 'sock', '.s.PGSQL.5432');
    const settled = restoring.then(() => 'settled' as const);
    while (!(await readdir(path.dirname(socket)).catch(() => [] as string[])).includes('.s.PGSQL.5432')) {
      if ((await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, 100, 'waiting'))])) === 'settled') break;
    }
    controller.abort();
    const outcome = await restoring;
    expect(outcome.ok).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});

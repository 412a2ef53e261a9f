// pgBackRest as an artifact source, against a real cluster archiving into a real repository: locate, verify, restore.
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgbackrestSource, type PgBackRestSourceOptions } from '../../sources/pgbackrest.js';
import type { LocatedBackup, SourceContext } from '../../src/contract/source.js';
import { createExec, type RunExec } from '../../src/exec/index.js';
import { NOBODY } from '../helpers/as-user.js';
import { makeWorkspace, runCli, startCli, type CliResult, type Workspace } from '../helpers/cli.js';
import { requirePgBackRest, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { requireTool } from '../helpers/require-tool.js';
import { resolvedHostFor, startSshd } from '../helpers/sshd.js';

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
  /** The `info` block of a set as `pgbackrest info --output=json` prints it. */
  const infoOf = async (label: string): Promise<{ size: number; repository: { delta: number } }> => {
    const printed = await cluster.pgbackrest(['info', '--output=json']);
    return JSON.parse(printed.output)[0].backup.find((set: { label: string }) => set.label === label).info;
  };
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
    // Big enough that dropping it later shrinks a full backup by well over 10%.
    await cluster.psql("CREATE TABLE orders AS SELECT g AS id, repeat('order ' || g, 12) AS note FROM generate_series(1, 60000) g", 'shop');
    const backup = await cluster.pgbackrest(['backup', '--type=full']);
    expect(backup.exitCode, backup.output).toBe(0);
  });
  afterAll(async () => {
    await exec?.close();
    await cluster?.stop();
    if (scratchBase) await rm(scratchBase, { recursive: true, force: true });
  });

  it('locates the newest set: its label, its stop time and the database size it restores', async () => {
    const before = Date.now();
    const backup = await locate();
    expect(backup.id).toMatch(/^\d{8}-\d{6}F$/);
    expect(backup.location).toBe(`pgbackrest stanza main, full backup set ${backup.id}`);
    expect(backup.completedAtMs).toBeLessThanOrEqual(before);
    expect(backup.bytes).toBe((await infoOf(backup.id)).size);
  });

  it('an unknown stanza, or a config file that is not there, is a clear failure', async () => {
    const unknown = await pgbackrestSource.locate(ctx({ stanza: 'nosuch' }));
    expect(unknown.found).toBe(false);
    if (!unknown.found) expect(unknown.message).toMatch(/stanza "nosuch" is unusable: missing stanza path/);
    const noConfig = await pgbackrestSource.locate(ctx({ config: path.join(cluster.dir, 'missing.conf') }));
    expect(noConfig.found).toBe(false);
    if (!noConfig.found) expect(noConfig.message).toMatch(/pgbackrest info for pgbackrest stanza main failed \(exited with \d+\): .*missing\.conf/);
  });

  it.runIf(requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']))('host: the same set is found over SSH; an unreachable host is a clear failure', async () => {
    const sshd = await startSshd();
    const remote = createExec({ hosts: { nas: resolvedHostFor(sshd), gone: resolvedHostFor(sshd, 'gone', { port: 1 }) }, stateDir: scratchBase });
    try {
      const local = await locate();
      const over = await pgbackrestSource.locate({ ...ctx({ host: 'nas' }), exec: remote });
      expect(over).toEqual({ found: true, backup: { ...local, location: `pgbackrest stanza main on nas, full backup set ${local.id}` } });
      const gone = await pgbackrestSource.locate({ ...ctx({ host: 'gone' }), exec: remote });
      expect(gone.found).toBe(false);
      if (!gone.found) expect(gone.message).toMatch(/^pgbackrest info for pgbackrest stanza main on gone failed \(connection to gone \(.*\) refused: .*\)$/);
    } finally {
      await remote.close();
      await sshd.stop();
    }
  });

  it.runIf(requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']))('host: a PGBACKREST_ variable of rearguard\'s own environment reaches pgbackrest on the host', async () => {
    // A config file without the repository path: only the environment names it, as a cipher pass would be given.
    const bare = path.join(scratchBase, 'no-repo-path.conf');
    await writeFile(bare, (await readFile(cluster.config, 'utf8')).split('\n').filter((line) => !line.startsWith('repo1-path=')).join('\n'));
    // rearguard's own environment holds the variable, with the same value the artifact's environment has.
    const env = { PATH: cluster.path, LC_ALL: 'C', PGBACKREST_REPO1_PATH: cluster.repo };
    const sshd = await startSshd();
    const remote = createExec({ hosts: { nas: resolvedHostFor(sshd) }, stateDir: scratchBase, env });
    try {
      const local = await locate();
      const over = await pgbackrestSource.locate({ ...ctx({ host: 'nas', config: bare }), env, exec: remote });
      expect(over).toEqual({ found: true, backup: { ...local, location: `pgbackrest stanza main on nas, full backup set ${local.id}` } });
    } finally {
      await remote.close();
      await sshd.stop();
    }
  });

  it('an incremental set fails where type: full is expected, and is the newest set otherwise', async () => {
    const full = await locate();
    const incr = await cluster.pgbackrest(['backup', '--type=incr']);
    expect(incr.exitCode, incr.output).toBe(0);
    const newest = await locate();
    expect(newest.id).toMatch(/F_\d{8}-\d{6}I$/);
    // An incremental set stores only what changed, yet its size is the database it restores, as a full set's is.
    expect(newest.bytes).toBe((await infoOf(newest.id)).size);
    expect((await infoOf(newest.id)).repository.delta).toBeLessThan(newest.bytes / 4);
    expect(Math.abs(newest.bytes - full.bytes)).toBeLessThan(full.bytes / 10);
    const wrongType = await pgbackrestSource.locate(ctx({ type: 'full' }));
    expect(wrongType.found).toBe(false);
    if (!wrongType.found) expect(wrongType.message).toContain(`${newest.id} of stanza "main" is an incr backup, but type: full is expected`);
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

  it('restore test: a scratch folder too deep for a unix socket is refused before anything is restored', async () => {
    const dir = path.join(scratchBase, 'd'.repeat(90));
    await mkdir(dir);
    const outcome = await pgbackrestSource.restore!(ctx(), await locate(), dir, []);
    expect(outcome).toEqual({ ok: false, message: expect.stringMatching(/more than a unix socket path holds \(107\): set restore.scratch to a shorter folder$/) });
    expect(await readdir(dir)).toEqual([]);
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

  describe('through the CLI', () => {
    let ws: Workspace;
    beforeAll(async () => {
      ws = await makeWorkspace('rg-pgcli-');
      // Restore scratch lives in the run's temp folder, which the server's user must pass through.
      await chmod(ws.dir, 0o711);
      await mkdir(ws.file('tmp'), { mode: 0o711 });
    });
    afterAll(async () => {
      await ws?.cleanup();
    });

    const asNobody = `[setpriv, --reuid=${NOBODY.uid}, --regid=${NOBODY.gid}, --clear-groups, --]`;
    /** A config whose unit runs `unitArgs` (a full backup by default) and whose artifact is the stanza's newest set. */
    const writeConfig = (options: { unit?: string; stanza?: string; extra?: string; restoreQuery?: string; noSize?: boolean } = {}) =>
      ws.write(
        'rearguard.yml',
        `version: 1
stages:
  - name: database
    units:
      - name: pg-full
        run: ${options.unit ?? `[${asNobody.slice(1, -1)}, pgbackrest, --config=${cluster.config}, --stanza=main, backup, --type=full]`}
        timeout: 3m
        critical: true
        artifacts:
          - pgbackrest: { stanza: ${options.stanza ?? 'main'}, config: ${cluster.config}, type: full, run_as: nobody${options.restoreQuery ? `, query: "${options.restoreQuery}"` : ''} }
            max_age: 1h
${options.noSize ? '' : '            size: { max_shrink: 10% }\n'}            check: true
            restore: {}
${options.extra ?? ''}`,
      );
    const run = async (command: string): Promise<CliResult & { report: any }> => {
      const result = await runCli([command, '--json', 'r.json'], { cwd: ws.dir, env: { PATH: cluster.path, TMPDIR: ws.file('tmp') } });
      return { ...result, report: await ws.readJson('r.json') };
    };
    const checksOf = (report: any): string[] => report.stages[0].units[0].artifacts[0].checks.map((c: any) => `${c.id}:${c.status}`);
    const checkOf = (report: any, id: string): any => report.stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === id);

    it('orchestrate: a full backup made by the unit is fresh, sized, restored and queried: exit 0', async () => {
      await writeConfig();
      const result = await run('orchestrate');
      expect(checksOf(result.report), result.stdout).toEqual(['exists:ok', 'fresh:ok', 'size:ok', 'repository:ok', 'restore:ok']);
      expect(result.exitCode).toBe(0);
      expect(result.report.stages[0].units[0].artifacts[0].path).toMatch(/^pgbackrest stanza main, full backup set \d{8}-\d{6}F$/);
      expect(checkOf(result.report, 'restore').message).toMatch(/^restored \d+ entries \(.*\) of pgbackrest stanza main, full backup set /);
      expect(await readdir(ws.file('tmp'))).toEqual([]);
    });

    it('orchestrate: a unit that exits 0 but makes no backup fails fresh: exit 2 for a critical unit', async () => {
      await writeConfig({ unit: '[/bin/true]' });
      const result = await run('orchestrate');
      expect(checkOf(result.report, 'fresh')).toMatchObject({ status: 'failed' });
      expect(checkOf(result.report, 'fresh').message).toMatch(/before the unit started .*: the unit did not produce a new backup/);
      expect(result.exitCode).toBe(2);
    });

    it('verify with check: true: a damaged file in the repository fails the repository check: exit 2', async () => {
      await writeConfig();
      const backup = await locate();
      const setDir = path.join(cluster.repo, 'backup', cluster.stanza, backup.id, 'pg_data', 'global');
      const victim = path.join(setDir, (await readdir(setDir)).find((name) => /^\d+$/.test(name))!);
      const original = await readFile(victim);
      await writeFile(victim, Buffer.concat([Buffer.from('DAMAGED!'), original.subarray(8)]));
      try {
        const result = await run('verify');
        expect(checkOf(result.report, 'repository')).toMatchObject({ status: 'failed' });
        expect(checkOf(result.report, 'repository').message).toMatch(/pgbackrest verify of pgbackrest stanza main found damage: backup: .*status: invalid/);
        expect(result.exitCode).toBe(2);
      } finally {
        await writeFile(victim, original);
      }
    });

    it('orchestrate: a full backup much smaller than the last ones fails size', async () => {
      await cluster.psql('DROP TABLE orders', 'shop');
      await cluster.psql('VACUUM FULL', 'shop');
      await writeConfig();
      const result = await run('orchestrate');
      expect(checkOf(result.report, 'size').message).toMatch(/shrank .* max_shrink is 10%/);
      expect(result.exitCode).toBe(2);
    });

    it('verify: a stanza that does not exist is a clear failure and exit 2', async () => {
      await writeConfig({ stanza: 'nosuch' });
      const result = await run('verify');
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toMatch(/stanza "nosuch" is unusable: missing stanza path/);
    });

    it('restore-test: SIGTERM while the private server runs stops it, removes the scratch folder, exit 2', async () => {
      // No size bound: the shrunk set of the test above would stop the checks before the restore.
      await writeConfig({ restoreQuery: 'SELECT pg_sleep(120)', noSize: true });
      const child = startCli(['restore-test', '--json', 'r.json'], { cwd: ws.dir, env: { PATH: cluster.path, TMPDIR: ws.file('tmp') } });
      // The fixed point: the private server's socket exists in the restore's scratch folder.
      const socketUp = async (): Promise<boolean> => {
        for (const name of await readdir(ws.file('tmp')).catch(() => [] as string[])) {
          if ((await readdir(path.join(ws.file('tmp'), name, 'sock')).catch(() => [] as string[])).includes('.s.PGSQL.5432')) return true;
        }
        return false;
      };
      while (!(await socketUp())) {
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill('SIGTERM');
      const result = await child;
      expect(result.exitCode).toBe(2);
      expect(String(result.stdout)).toMatch(/aborted by SIGTERM/);
      expect(processesMentioning(ws.file('tmp'))).toEqual([]);
      expect(await readdir(ws.file('tmp'))).toEqual([]);
    });
  });

  // Last: it damages the cluster itself, so every later full backup would be flagged too.
  it('a set taken while a data page fails its checksum is flagged in error by pgBackRest and refused', async () => {
    await cluster.psql("CREATE TABLE ledger AS SELECT g AS id, repeat('entry', 20) AS note FROM generate_series(1, 2000) g", 'shop');
    await cluster.psql('CHECKPOINT');
    const relation = (await cluster.psql("SELECT pg_relation_filepath('ledger')", 'shop')).trim();
    const file = path.join(cluster.data, relation);
    const bytes = await readFile(file);
    // The middle of the first page: its checksum no longer matches, its header still looks sane.
    bytes.write('DAMAGED', 4000, 'latin1');
    await writeFile(file, bytes);
    const backup = await cluster.pgbackrest(['backup', '--type=full']);
    expect(backup.output).toMatch(/invalid page checksum|checksum/i);
    const location = await pgbackrestSource.locate(ctx());
    expect(location.found).toBe(false);
    if (!location.found) expect(location.message).toMatch(/^the newest backup set \d{8}-\d{6}F of stanza "main" is flagged in error/);
  });
});

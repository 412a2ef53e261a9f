// A throwaway PostgreSQL cluster archiving into a local pgBackRest repository, all in one temp folder, run as nobody.
import { execa } from 'execa';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asUnprivileged, IS_ROOT, NOBODY } from './as-user.js';
import { PG_BIN_DIRS } from './postgres.js';
import { requireTool } from './require-tool.js';

/** True when PostgreSQL's server binaries, psql and pgbackrest are there (under CI a missing one fails). */
export function requirePgBackRest(): boolean {
  const pg = ['initdb', 'pg_ctl', 'psql'].every((tool) => requireTool(tool, 'apt-get install postgresql', PG_BIN_DIRS));
  return pg && requireTool('pgbackrest', 'apt-get install pgbackrest');
}

/** A running cluster with a stanza; every path lives under `dir`. */
export interface PgCluster {
  dir: string;
  stanza: string;
  /** The pgBackRest config file naming the stanza, the cluster and the repository. */
  config: string;
  repo: string;
  data: string;
  /** The server's unix socket folder (no TCP port is opened). */
  socketDir: string;
  /** PATH with the server binaries, for configs and units. */
  path: string;
  /** Runs SQL as the superuser "postgres" over the socket. */
  psql(sql: string, database?: string): Promise<string>;
  /** Runs `pgbackrest <args>` against the stanza as the cluster's user. */
  pgbackrest(args: string[]): Promise<{ exitCode: number; output: string }>;
  stop(): Promise<void>;
}

const withPgBin = (): string => [...PG_BIN_DIRS, process.env.PATH ?? ''].join(':');

/** initdb, pgbackrest.conf, start on a socket, stanza-create; `backup` to add sets. Stop removes everything. */
export async function startPgCluster(stanza = 'main'): Promise<PgCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-pgb-'));
  const data = path.join(dir, 'data');
  const repo = path.join(dir, 'repo');
  const socketDir = path.join(dir, 'sock');
  const logs = path.join(dir, 'log');
  const locks = path.join(dir, 'lock');
  for (const sub of [repo, socketDir, logs, locks]) await mkdir(sub);
  const config = path.join(dir, 'pgbackrest.conf');
  await writeFile(
    config,
    [
      '[global]',
      `repo1-path=${repo}`,
      'repo1-retention-full=4',
      `log-path=${logs}`,
      `lock-path=${locks}`,
      'start-fast=y',
      'compress-type=none',
      'log-level-console=warn',
      '',
      `[${stanza}]`,
      `pg1-path=${data}`,
      `pg1-socket-path=${socketDir}`,
      'pg1-user=postgres',
      '',
    ].join('\n'),
  );
  if (IS_ROOT) {
    for (const p of [dir, repo, socketDir, logs, locks, config]) await chown(p, NOBODY.uid, NOBODY.gid);
  }
  const env = { ...process.env, LC_ALL: 'C', PATH: withPgBin() };
  const run = (argv: string[]) => {
    const [file, ...args] = asUnprivileged(argv);
    return execa(file!, args, { cwd: dir, env, reject: false, all: true });
  };
  const must = async (argv: string[]): Promise<string> => {
    const result = await run(argv);
    if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${result.exitCode}: ${result.all}`);
    return String(result.all ?? '');
  };
  // Data checksums on, so a damaged page makes pgBackRest flag the set in error.
  await must(['initdb', '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--data-checksums']);
  await writeFile(
    path.join(data, 'postgresql.auto.conf'),
    [
      "listen_addresses = ''",
      `unix_socket_directories = '${socketDir}'`,
      'fsync = off',
      'archive_mode = on',
      `archive_command = 'pgbackrest --config=${config} --stanza=${stanza} archive-push %p'`,
      'wal_level = replica',
      'max_wal_senders = 2',
      '',
    ].join('\n'),
  );
  if (IS_ROOT) await chown(path.join(data, 'postgresql.auto.conf'), NOBODY.uid, NOBODY.gid);
  await must(['pg_ctl', '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const cluster: PgCluster = {
    dir,
    stanza,
    config,
    repo,
    data,
    socketDir,
    path: withPgBin(),
    psql: (sql, database = 'postgres') => must(['psql', '-h', socketDir, '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql]),
    async pgbackrest(args) {
      const result = await run(['pgbackrest', `--config=${config}`, `--stanza=${stanza}`, ...args]);
      return { exitCode: result.exitCode ?? -1, output: String(result.all ?? '') };
    },
    async stop() {
      await run(['pg_ctl', '-D', data, '-m', 'immediate', '-w', 'stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await must(['pgbackrest', `--config=${config}`, `--stanza=${stanza}`, 'stanza-create']);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

// The pgBackRest restore test: restore a set into scratch, start a private PostgreSQL on it, query it, stop it.
import { lastLine } from '../../src/util/tail.js';
import { access, chmod, chown, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocatedBackup, SourceContext, SourceOutcome } from '../../src/contract/source.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { pgbackrestArgv, type PgBackRestOptions } from './command.js';
import { chooseServerAccount, runAsPrefix, type OsAccount } from './os-user.js';
import { startPrivateServer, type ServerLayout } from './private-server.js';

/** What the restore test runs once the server answers, when the config says nothing: list the databases. */
export const DEFAULT_QUERY = 'SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname';
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const MAX_DETAILS = 20;
const MAX_SOCKET_PATH = 107;

/** The scratch layout: data, socket, lock and spool folders, all owned by the server's user. */
async function makeLayout(dir: string, account: OsAccount | undefined): Promise<Record<'data' | 'socket' | 'lock' | 'spool' | 'conf', string>> {
  const layout = { data: 'data', socket: 'sock', lock: 'lock', spool: 'spool', conf: 'conf' };
  const paths = Object.fromEntries(Object.entries(layout).map(([key, name]) => [key, path.join(dir, name)])) as Record<keyof typeof layout, string>;
  for (const folder of Object.values(paths)) {
    await mkdir(folder, { mode: 0o700 });
    if (account) await chown(folder, account.uid, account.gid);
  }
  // The server's user must pass through the caller's private folder to reach its own; it still cannot list it.
  if (account) await chmod(dir, 0o711);
  return paths;
}

/** PostgreSQL's programs for the restored cluster's major version, where Debian keeps them; else PATH. */
async function findBinDir(options: PgBackRestOptions & { pg_bin?: string }, data: string): Promise<string> {
  if (options.pg_bin) return options.pg_bin;
  const version = (await readFile(path.join(data, 'PG_VERSION'), 'utf8').catch(() => '')).trim();
  const debian = `/usr/lib/postgresql/${version}/bin`;
  return version && (await access(path.join(debian, 'postgres')).then(() => true, () => false)) ? debian : '';
}

/** Restore-test settings of a pgbackrest artifact. */
export interface PgRestoreSettings {
  /** Run after the server answers (default: list the databases). */
  query?: string;
  /** More statements, each must succeed. */
  sql?: string[];
  /** The database role to connect as (default postgres). */
  database_user?: string;
  /** Who the restore and the server run as when rearguard is root (default postgres). */
  run_as?: string;
  /** Folder of postgres, pg_ctl, pg_isready and psql. */
  pg_bin?: string;
}

/** Restores `backup` into `dir`, proves a PostgreSQL starts on it and answers the queries, and leaves nothing running. */
export async function restoreAndQuery(
  ctx: SourceContext<PgBackRestOptions & PgRestoreSettings>,
  backup: LocatedBackup,
  dir: string,
  include: readonly string[],
): Promise<SourceOutcome> {
  const { options } = ctx;
  if (options.host !== undefined) {
    return { ok: false, message: `a restore test of a stanza on ${options.host} runs there: run rearguard restore-test on ${options.host}, or name the repository in a config file on this machine` };
  }
  // sun_path holds 107 bytes: a longer socket path would only show up as a server that does not start.
  const socketPath = path.join(dir, 'sock', '.s.PGSQL.5432');
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    return { ok: false, message: `the private server's socket ${socketPath} would be ${Buffer.byteLength(socketPath)} bytes long, more than a unix socket path holds (${MAX_SOCKET_PATH}): set restore.scratch to a shorter folder` };
  }
  const chosen = await chooseServerAccount(options.run_as);
  if ('error' in chosen) return { ok: false, message: chosen.error };
  const asUser = runAsPrefix(chosen.account);
  const where = await makeLayout(dir, chosen.account);
  const timeoutMs = ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const env = { ...ctx.env, LC_ALL: 'C' };
  // WAL comes back through archive-get, with this restore's private paths, never the cluster's own.
  const privatePaths = [`--pg1-path=${where.data}`, `--lock-path=${where.lock}`, '--log-level-file=off'];
  const restoreCommand = [...pgbackrestArgv(options, 'archive-get', privatePaths), '%f', '"%p"'].join(' ');
  const argv = [
    ...asUser,
    ...pgbackrestArgv(options, 'restore', [
      ...privatePaths,
      `--spool-path=${where.spool}`,
      `--set=${backup.id}`,
      '--type=immediate',
      '--target-action=promote',
      '--archive-mode=off',
      `--tablespace-map-all=${path.join(dir, 'tablespaces')}`,
      `--recovery-option=restore_command=${restoreCommand}`,
      ...include.map((db) => `--db-include=${db}`),
    ]),
  ];
  const restored = await ctx.exec.run({ argv, cwd: dir, env, timeoutMs, killGraceMs: 10_000, signal: ctx.signal, label: 'pgbackrest-restore' });
  if (!succeeded(restored)) {
    return { ok: false, message: `pgbackrest restore of set ${backup.id} failed (${describeFailure(restored, 'the unit timeout')}): ${lastLine(restored.output)}`, details: tail(restored.output) };
  }
  const layout: ServerLayout = { data: where.data, socketDir: where.socket, confDir: where.conf, asUser, binDir: await findBinDir(options, where.data), env };
  const server = await startPrivateServer({ exec: ctx.exec, signal: ctx.signal, timeoutMs }, layout);
  try {
    const ready = await server.ready(Math.min(timeoutMs, 5 * 60_000));
    if (!ready.ok) return { ok: false, message: `set ${backup.id} was restored, but ${ready.message}: the backup cannot be started`, details: tail(ready.output) };
    const user = options.database_user ?? 'postgres';
    const statements = [options.query ?? DEFAULT_QUERY, ...(options.sql ?? [])];
    const answers: string[] = [];
    for (const sql of statements) {
      const answer = await server.query(sql, 'postgres', user);
      if (!succeeded(answer)) {
        const error = answer.output.split('\n').find((line) => /\b(?:ERROR|FATAL):/.test(line))?.trim() ?? lastLine(answer.output);
        return { ok: false, message: `set ${backup.id} started, but "${sql}" failed: ${error}`, details: tail(answer.output) };
      }
      answers.push(answer.output.trim());
    }
    const rows = answers[0]!.split('\n').filter((row) => row !== '');
    return {
      ok: true,
      message: `set ${backup.id} restored, started on a private socket and queried: ${rows.length} row(s) (${rows.slice(0, 8).join(', ')}${rows.length > 8 ? ', …' : ''})${statements.length > 1 ? `; ${statements.length - 1} more statement(s) succeeded` : ''}`,
    };
  } finally {
    await server.stop();
  }
}

function tail(output: string): string[] {
  return output.split('\n').filter((line) => line.trim() !== '').slice(-MAX_DETAILS);
}

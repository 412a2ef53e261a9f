// A throwaway PostgreSQL server on loopback with password authentication, run as an unprivileged user.
import { execa } from 'execa';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { asUnprivileged, IS_ROOT, NOBODY } from './as-user.js';
import { requireTool } from './require-tool.js';
import { PORT_TAKEN, PortTakenError, startOnFreePort } from './free-port.js';

/** Debian keeps the server binaries out of PATH. */
export const PG_BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

/** True when initdb, pg_ctl, pg_dump, pg_restore and psql are there (under CI a missing one fails). */
export function requirePostgres(): boolean {
  const install = 'apt-get install postgresql (initdb and pg_ctl on PATH)';
  return ['initdb', 'pg_ctl', 'pg_dump', 'pg_restore', 'psql'].every((tool) => requireTool(tool, install, PG_BIN_DIRS));
}

/** A running server: connect with `env` (libpq variables; the password only in the PGPASSFILE). */
export interface PostgresServer {
  port: number;
  dir: string;
  /** PGHOST, PGPORT, PGUSER and PGPASSFILE for the superuser "postgres". */
  env: Record<string, string>;
  password: string;
  psql(sql: string, database?: string): Promise<void>;
  stop(): Promise<void>;
}

const withPgBin = (): string => [process.env.PATH ?? '', ...PG_BIN_DIRS].join(':');

/** Starts a server (initdb refuses root, so it runs as nobody in a folder nobody owns). */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-pg-'));
  if (IS_ROOT) await chown(dir, NOBODY.uid, NOBODY.gid);
  const data = path.join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const pwfile = path.join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (IS_ROOT) await chown(pwfile, NOBODY.uid, NOBODY.gid);
  const run = (argv: string[]) => {
    const [file, ...args] = asUnprivileged(argv);
    return execa(file!, args, { cwd: dir, env: { ...process.env, LC_ALL: 'C', PATH: withPgBin() } });
  };
  await run(['initdb', '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8']);
  await rm(pwfile);
  const serverLog = path.join(dir, 'server.log');
  const port = await startOnFreePort(async (candidate) => {
    const logged = await readFile(serverLog, 'utf8').catch(() => '');
    try {
      await run(['pg_ctl', '-D', data, '-l', serverLog, '-w', '-t', '30', '-o', `-c listen_addresses=127.0.0.1 -p ${candidate} -k ${dir} -c fsync=off`, 'start']);
    } catch (error) {
      // The server's own log says why it stopped; pg_ctl appends to it, so only this start's lines count.
      const lines = (await readFile(serverLog, 'utf8').catch(() => '')).slice(logged.length);
      if (PORT_TAKEN.test(lines)) throw new PortTakenError(`postgres could not bind 127.0.0.1:${candidate}: ${lines.trim()}`);
      throw error;
    }
    return candidate;
  });
  // The client side: a pgpass file readable by the test (root) only.
  const clientDir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-pgclient-'));
  const pgpass = path.join(clientDir, 'pgpass');
  await writeFile(pgpass, `127.0.0.1:${port}:*:postgres:${password}\n`, { mode: 0o600 });
  await chmod(pgpass, 0o600);
  const env = { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'postgres', PGPASSFILE: pgpass };
  return {
    port,
    dir,
    env,
    password,
    async psql(sql, database = 'postgres') {
      await execa('psql', ['-d', database, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { env: { ...process.env, ...env, PATH: withPgBin() } });
    },
    async stop() {
      await run(['pg_ctl', '-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await rm(clientDir, { recursive: true, force: true });
    },
  };
}

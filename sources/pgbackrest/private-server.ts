// A private PostgreSQL on a restored data folder: unix socket in the scratch folder, no TCP port, trust only there.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Exec, ProcessResult } from '../../src/exec/types.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { sleepUnlessAborted } from '../../src/util/backoff.js';

/** Where the server lives and how to start its programs. */
export interface ServerLayout {
  /** The restored data folder. */
  data: string;
  /** The socket folder (private: only the server's user enters it). */
  socketDir: string;
  /** Folder for the private hba and ident files. */
  confDir: string;
  /** argv prefix that runs programs as the server's user. */
  asUser: string[];
  /** Folder of postgres, pg_ctl, pg_isready and psql ('' = PATH). */
  binDir: string;
  env: Record<string, string>;
}

/** What running the server and its clients needs. */
export interface ServerContext {
  exec: Exec;
  signal: AbortSignal;
  timeoutMs: number;
}

/** A started server: wait until it answers, query it, stop it. */
export interface PrivateServer {
  /** Resolves when it accepts connections, or with why it never did (it exited, or the wait ran out). */
  ready(waitMs: number): Promise<{ ok: true } | { ok: false; message: string; output: string }>;
  /** Runs SQL through psql as `user`; output is psql's unaligned rows. */
  query(sql: string, database: string, user: string): Promise<ProcessResult>;
  /** Fast shutdown, then the process box is ended; resolves when nothing is left. */
  stop(): Promise<void>;
}

const KILL_GRACE_MS = 5_000;
const POLL_MS = 250;

const bin = (layout: ServerLayout, program: string): string => (layout.binDir ? path.join(layout.binDir, program) : program);

/**
 * Starts postgres in the foreground through ctx.exec, so it lives in a box of its own that the run's
 * abort and the stop below end. Settings on the command line win over the restored postgresql.auto.conf:
 * no TCP listener, the private socket, trust only on that socket, and no WAL archiving into the repository.
 */
export async function startPrivateServer(ctx: ServerContext, layout: ServerLayout): Promise<PrivateServer> {
  const hba = path.join(layout.confDir, 'pg_hba.conf');
  const ident = path.join(layout.confDir, 'pg_ident.conf');
  await writeFile(hba, 'local all all trust\n', { mode: 0o644 });
  await writeFile(ident, '', { mode: 0o644 });
  const own = new AbortController();
  const signal = AbortSignal.any([ctx.signal, own.signal]);
  const settings = {
    listen_addresses: '',
    unix_socket_directories: layout.socketDir,
    hba_file: hba,
    ident_file: ident,
    archive_mode: 'off',
    logging_collector: 'off',
  };
  const argv = [...layout.asUser, bin(layout, 'postgres'), '-D', layout.data, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
  let exited: ProcessResult | undefined;
  const running = ctx.exec
    .run({ argv, cwd: layout.data, env: layout.env, timeoutMs: ctx.timeoutMs, killGraceMs: KILL_GRACE_MS, signal, label: 'postgres-restore-test', maxCaptureBytes: 16 * 1024 })
    .then((result) => {
      exited = result;
      return result;
    });
  const client = (args: string[], timeoutMs = 60_000): Promise<ProcessResult> =>
    ctx.exec.run({ argv: [...layout.asUser, ...args], cwd: layout.data, env: layout.env, timeoutMs, killGraceMs: KILL_GRACE_MS, signal: ctx.signal, label: 'psql' });
  return {
    async ready(waitMs) {
      const deadline = Date.now() + waitMs;
      while (!ctx.signal.aborted) {
        if (exited) return { ok: false, message: `PostgreSQL did not start (${describeFailure(exited, '')})`, output: exited.output };
        const probe = await client([bin(layout, 'pg_isready'), '-q', '-h', layout.socketDir, '-d', 'postgres'], 30_000);
        if (succeeded(probe)) return { ok: true };
        if (Date.now() >= deadline) return { ok: false, message: `PostgreSQL did not accept connections within ${Math.round(waitMs / 1000)}s`, output: '' };
        await sleepUnlessAborted(POLL_MS, ctx.signal);
      }
      return { ok: false, message: 'the run was aborted while PostgreSQL was starting', output: '' };
    },
    query: (sql, database, user) =>
      client([bin(layout, 'psql'), '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', layout.socketDir, '-U', user, '-d', database, '-c', sql]),
    async stop() {
      if (!exited) await client([bin(layout, 'pg_ctl'), '-D', layout.data, '-m', 'fast', '-w', '-t', '30', 'stop'], 40_000);
      own.abort();
      await running;
    },
  };
}

// End to end with a real PostgreSQL on loopback: a unit runs pg_dump -Fc, the restore rule runs pg_restore --list.
import { execa } from 'execa';
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { freePort } from '../helpers/sshd.js';

const INSTALL = 'apt-get install postgresql (initdb and pg_ctl on PATH)';
const available = ['initdb', 'pg_ctl', 'pg_dump', 'pg_restore', 'psql'].every((tool) => requireTool(tool, INSTALL, ['/usr/lib/postgresql/15/bin']));

// initdb refuses to run as root: the server then runs as nobody, in a folder nobody owns.
const NOBODY = { uid: 65534, gid: 65534 };
const asServerUser = (argv: string[]): string[] =>
  process.getuid?.() === 0 ? ['setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', ...argv] : argv;

interface Postgres {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function startPostgres(): Promise<Postgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-pg-'));
  if (process.getuid?.() === 0) await chown(dir, NOBODY.uid, NOBODY.gid);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const run = (argv: string[]) => {
    const [file, ...args] = asServerUser(argv);
    return execa(file!, args, { cwd: dir, env: { ...process.env, LC_ALL: 'C' } });
  };
  await run(['initdb', '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  await run([
    'pg_ctl', '-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30',
    '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start',
  ]);
  return {
    port,
    dir,
    async stop() {
      await run(['pg_ctl', '-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe.runIf(available)('PostgreSQL dumps, restored and listed', () => {
  let pg: Postgres;
  let ws: Workspace;
  beforeAll(async () => {
    pg = await startPostgres();
    const psql = (sql: string, db = 'postgres') => execa('psql', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', db, '-v', 'ON_ERROR_STOP=1', '-c', sql]);
    await psql('CREATE DATABASE appdb');
    await psql("CREATE TABLE invoices (id serial PRIMARY KEY, customer text NOT NULL); INSERT INTO invoices (customer) SELECT 'customer ' || g FROM generate_series(1, 500) g", 'appdb');
  });
  afterAll(async () => {
    await pg?.stop();
  });

  // pg_dump and tar in one unit: an explicit shell opt-in, as a user's config would have it.
  const config = (dumpStep: string): string => `version: 1
stages:
  - name: postgres
    units:
      - name: appdb
        shell: "mkdir -p work backups && ${dumpStep} && tar -czf backups/appdb-1.tar.gz -C work database.dump"
        timeout: 2m
        critical: true
        artifacts:
          - path: backups/appdb-*.tar.gz
            archive: { expect: [database.dump] }
            restore:
              command: [pg_restore, --list, database.dump]
              scratch: scratch
`;

  it('a custom-format dump restores and pg_restore --list reads it: exit 0', async () => {
    ws = await makeWorkspace();
    try {
      await ws.write('scratch/.keep', '');
      await ws.write('rearguard.yml', config(`pg_dump -Fc -h 127.0.0.1 -p ${pg.port} -U postgres -f work/database.dump appdb`));
      const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
      const report = await ws.readJson('r.json');
      const checks = report.stages[0].units[0].artifacts[0].checks;
      expect(checks.map((c: any) => [c.id, c.status])).toEqual([
        ['exists', 'ok'],
        ['fresh', 'ok'],
        ['archive', 'ok'],
        ['restore', 'ok'],
      ]);
      expect(result.exitCode).toBe(0);
      expect(result.verdictLine).toMatch(/^verdict: ok/);
      expect(checks[3].message).toContain('command: pg_restore --list database.dump: exit 0');
      expect(await readdir(ws.file('scratch'))).toEqual(['.keep']);
    } finally {
      await ws.cleanup();
    }
  });

  it('a plain-SQL file where a custom-format dump was expected fails the restore rule: exit 2', async () => {
    ws = await makeWorkspace();
    try {
      await ws.write('scratch/.keep', '');
      await ws.write('rearguard.yml', config(`pg_dump -Fp -h 127.0.0.1 -p ${pg.port} -U postgres -f work/database.dump appdb`));
      const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
      expect(result.exitCode).toBe(2);
      expect(result.verdictLine).toMatch(/^verdict: critical/);
      const restore = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'restore');
      expect(restore.status).toBe('failed');
      expect(restore.message).toContain('pg_restore --list database.dump: exited with 1');
      expect(restore.details.join('\n')).toMatch(/pg_restore: error: .*(not appear to be a valid archive|input file)/);
    } finally {
      await ws.cleanup();
    }
  });
});

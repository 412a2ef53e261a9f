// The zx backup-script template (examples/scripts/app-backup.mjs) against a real PostgreSQL: rearguard proves its
// output, and every failing step (database down, unreadable dump, killed dump, disk full) leaves no final-named file.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { IS_ROOT } from '../helpers/as-user.js';
import { makeWorkspace, ROOT, runCli, type Workspace } from '../helpers/cli.js';
import { requirePostgres, startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { IN_CI, requireTool } from '../helpers/require-tool.js';
import { freePort } from '../helpers/sshd.js';

const TEMPLATE = path.join(ROOT, 'examples/scripts/app-backup.mjs');
const available = requirePostgres();
const FINAL = /^app-\d{8}T\d{9}Z\.tar\.gz(\.sha256)?$/;

// Fault injection at a fixed point: the real pg_dump runs, then its output is cut to 2048 bytes and the wrapper
// either exits 0 (a dump that lies) or is killed with SIGKILL (a dump killed while writing).
const FAKE_PG_DUMP = `#!/bin/bash
real=$(PATH="\${PATH#*:}" command -v pg_dump)
file=""
for a in "$@"; do case "$a" in --file=*) file="\${a#--file=}" ;; esac; done
[ -z "$file" ] && exec "$real" "$@"
"$real" "$@" || exit $?
truncate -s 2048 "$file"
[ "$FAULT" = kill ] && kill -KILL $$
exit 0
`;

describe.runIf(available)('the zx backup-script template', () => {
  let pg: PostgresServer;
  let ws: Workspace;
  beforeAll(async () => {
    pg = await startPostgres();
    await pg.psql('CREATE DATABASE appdb');
    await pg.psql("CREATE TABLE invoices (id serial PRIMARY KEY, customer text NOT NULL); INSERT INTO invoices (customer) SELECT 'customer ' || g FROM generate_series(1, 2000) g", 'appdb');
  });
  afterAll(async () => {
    await pg?.stop();
  });
  afterEach(async () => {
    await ws?.cleanup();
  });

  const makeApp = async (): Promise<void> => {
    ws = await makeWorkspace();
    await ws.write('app/config.json', JSON.stringify({ name: 'billing', workers: 4 }));
    await ws.write('app/uploads/invoice-1.txt', 'invoice 1\n'.repeat(50));
  };
  const backup = (out: string, env: Record<string, string> = {}) =>
    execa(process.execPath, [TEMPLATE, '--app-dir', ws.file('app'), '--out', out, '--keep', '2'], {
      reject: false,
      env: { ...process.env, ...pg.env, PGDATABASE: 'appdb', ...env },
    });

  it('makes a dump + files archive that rearguard orchestrate and restore-test prove; keeps the newest N; no password on the way', async () => {
    await makeApp();
    await ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: app
    units:
      - name: app-backup
        run: [${JSON.stringify(process.execPath)}, ${JSON.stringify(TEMPLATE)}, --app-dir, app, --out, backups, --keep, "2"]
        env: { PGHOST: 127.0.0.1, PGPORT: "${pg.port}", PGUSER: postgres, PGDATABASE: appdb, PGPASSFILE: ${JSON.stringify(pg.env.PGPASSFILE)} }
        timeout: 2m
        critical: true
        artifacts:
          - path: backups/app-*.tar.gz
            max_age: 1h
            checksum: sidecar
            size: { min: 2KB }
            archive: { expect: [database.dump, MANIFEST.json, SHA256SUMS, app/config.json] }
            restore:
              json: "**/*.json"
              sha256sums: SHA256SUMS
              command: [pg_restore, --list, database.dump]
`,
    );
    const orchestrate = await runCli(['orchestrate', '-c', 'rearguard.yml', '--json', 'report.json'], { cwd: ws.dir });
    expect(orchestrate.exitCode, `${orchestrate.stdout}\n${orchestrate.stderr}`).toBe(0);
    const report = await ws.readJson<{ stages: Array<{ units: Array<{ artifacts: Array<{ checks: Array<{ id: string; status: string }> }> }> }> }>('report.json');
    const checks = report.stages[0]!.units[0]!.artifacts[0]!.checks.map((c) => `${c.id}:${c.status}`);
    expect(checks).toEqual(expect.arrayContaining(['checksum:ok', 'archive:ok', 'restore:ok']));
    const manifest = JSON.parse((await execa('tar', ['-xzOf', path.join(ws.dir, 'backups', (await readdir(ws.file('backups')))[0]!), 'MANIFEST.json'])).stdout) as { database: string; files: string[] };
    expect(manifest.database).toBe('appdb');
    expect(manifest.files).toEqual(['app/config.json', 'app/uploads/invoice-1.txt', 'database.dump']);

    const restore = await runCli(['restore-test', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(restore.exitCode, restore.stdout).toBe(0);
    expect(restore.stdout).toMatch(/check restore ok: .*command: pg_restore --list database\.dump/);

    // Two more runs with --keep 2: the oldest archive and its sidecar go, only after the new one is in place.
    const first = (await readdir(ws.file('backups'))).filter((f) => f.endsWith('.tar.gz'));
    for (let i = 0; i < 2; i += 1) expect((await backup(ws.file('backups'))).exitCode).toBe(0);
    const left = (await readdir(ws.file('backups'))).sort();
    expect(left).toHaveLength(4);
    expect(left.every((f) => FINAL.test(f))).toBe(true);
    expect(left).not.toContain(first[0]);

    // The password lives only in the PGPASSFILE: not in the config, the unit log or the report.
    const everything = (await execa('grep', ['-rl', pg.password, ws.dir], { reject: false })).stdout;
    expect(everything).toBe('');
  });

  const expectNothingFinal = async (out: string, before: string[] = []): Promise<void> => {
    const entries = (await readdir(out)).sort();
    expect(entries.filter((f) => !before.includes(f))).toEqual([]);
    expect(entries.filter((f) => f.startsWith('.'))).toEqual([]);
  };

  it('database down: exits non-zero and leaves nothing', async () => {
    await makeApp();
    const result = await backup(ws.file('out'), { PGPORT: String(await freePort()) });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/app-backup: pg_dump failed: .*(connection|connect)/i);
    await expectNothingFinal(ws.file('out'));
  });

  it('a dump pg_restore --list cannot read, and a dump killed while writing: non-zero, nothing left', async () => {
    await makeApp();
    await ws.write('fakebin/pg_dump', FAKE_PG_DUMP);
    await chmod(ws.file('fakebin/pg_dump'), 0o755);
    const PATH = `${ws.file('fakebin')}:${process.env.PATH}`;
    const lying = await backup(ws.file('out'), { PATH, FAULT: 'truncate' });
    expect(lying.exitCode).not.toBe(0);
    expect(lying.stderr).toMatch(/app-backup: pg_restore --list \(the dump must be readable\) failed/);
    await expectNothingFinal(ws.file('out'));
    const killed = await backup(ws.file('out'), { PATH, FAULT: 'kill' });
    expect(killed.exitCode).not.toBe(0);
    expect(killed.stderr).toMatch(/app-backup: pg_dump failed/);
    await expectNothingFinal(ws.file('out'));
  });

  it.runIf(IS_ROOT || IN_CI)('disk full while archiving: non-zero, the previous archive untouched, no partial file', async () => {
    requireTool('mount', 'apt-get install mount');
    await makeApp();
    const out = ws.file('small');
    await mkdir(out);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', out]);
    try {
      expect((await backup(out)).exitCode).toBe(0);
      const before = (await readdir(out)).sort();
      const sidecar = await readFile(path.join(out, before.find((f) => f.endsWith('.sha256'))!), 'utf8');
      // 2 MiB that gzip cannot shrink: the staging copy fits in 3 MiB, the archive beside it does not.
      await ws.write('app/uploads/big.bin', randomBytes(2 * 1024 * 1024));
      const full = await backup(out);
      expect(full.exitCode).not.toBe(0);
      expect(full.stderr).toMatch(/app-backup: (archiving|copying the application folder) failed/);
      await expectNothingFinal(out, before);
      expect((await readdir(out)).sort()).toEqual(before);
      expect(await readFile(path.join(out, before.find((f) => f.endsWith('.sha256'))!), 'utf8')).toBe(sidecar);
    } finally {
      await execa('umount', [out]);
      await rm(out, { recursive: true, force: true });
    }
  });
});

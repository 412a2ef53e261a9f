// Fault: a disk fills up (ENOSPC on a real small tmpfs): state_dir, the artifact folder during sqlite_backup, the restore scratch folder, and the remote folder of an upload.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { makeTar } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/require-tool.js';
import { hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';
import { openTestDb } from '../helpers/sqlite-db.js';
import { mountTmpfs, requireTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

const FILL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fill-at-line.mjs');
const tmpfsOk = await requireTmpfs();
const sshdOk = tmpfsOk && requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);
const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let ws: Workspace;
let mounts: Tmpfs[] = [];
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-enospc-');
  mounts = [];
});
afterEach(async () => {
  for (const mount of mounts.reverse()) await mount.unmount();
  await ws.cleanup();
});

async function tmpfsAt(relative: string, size: string, inodes?: number): Promise<string> {
  const mount = await mountTmpfs(size, { dir: ws.file(relative), ...(inodes && { inodes }) });
  mounts.push(mount);
  return mount.dir;
}

type Check = { id: string; status: string; message: string };
type Unit = { name: string; status: string; message: string; log?: string; log_truncated?: { bytes: number; dropped_bytes: number }; artifacts?: Array<{ checks: Check[] }> };
const unitsOf = (report: any): Unit[] =>
  report.stages.flatMap((stage: any) => stage.units);

describe.runIf(tmpfsOk)('fault: ENOSPC on state_dir', () => {
  const config = `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'mkdir -p out && date >> out/db.bin']
        artifacts:
          - path: out/db.bin
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`;

  it('full before the run: exit 2 naming the lock and ENOSPC, no empty lock left behind, and the next run (space freed) answers 0', async () => {
    const state = await tmpfsAt('state', '64k');
    await ws.write('rearguard.yml', config);
    await writeFile(path.join(state, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\): .*could not write the lock \S+rearguard\.lock: ENOSPC/);
    const report = await ws.readJson('report.json');
    expect(report).toMatchObject({ verdict: 'critical', exit_code: 2 });
    expect(report.reason).toMatch(/rearguard\.lock: ENOSPC/);
    expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(/^rearguard_run_status\{command="orchestrate"\} 2$/m);
    // An empty lock names no holder: no later run could recover it.
    expect(existsSync(path.join(state, 'rearguard.lock'))).toBe(false);
    expect(existsSync(ws.file('out/db.bin'))).toBe(false);

    await writeFile(path.join(state, 'filler'), '');
    const next = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(existsSync(path.join(state, 'rearguard.lock'))).toBe(false);
  });

  it('full during verification: exit 1, the report and metrics say the size history could not be written, the earlier history kept as it was', async () => {
    const state = await tmpfsAt('state', '256k');
    await ws.write('rearguard.yml', config);
    const first = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const [historyName] = await readdir(path.join(state, 'history'));
    const historyBefore = await readFile(path.join(state, 'history', historyName!), 'utf8');

    const result = await runCli(['orchestrate'], {
      cwd: ws.dir,
      env: { NODE_OPTIONS: `--import ${FILL}`, REARGUARD_TEST_FILL_AT: 'check exists ok', REARGUARD_TEST_FILL_DIR: state },
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.verdictLine).toMatch(/^verdict: partial \(exit 1\): could not record \S+ \(\d+ bytes\) in the size history \S+: ENOSPC/);
    const report = await ws.readJson('report.json');
    expect(report).toMatchObject({ verdict: 'partial', exit_code: 1 });
    expect(report.warnings.join('\n')).toContain(path.join(state, 'history', historyName!));
    expect(unitsOf(report).map((u) => [u.name, u.status])).toEqual([['dump', 'ok']]);
    expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(/^rearguard_run_status\{command="orchestrate"\} 1$/m);
    // The run's own copy of the report did not fit either; the user is told.
    expect(result.stderr).toMatch(/could not keep the report in state_dir\/runs\/\S+: ENOSPC/);
    expect(await readFile(path.join(state, 'history', historyName!), 'utf8')).toBe(historyBefore);
    expect((await readdir(path.join(state, 'history'))).filter((n) => n !== historyName)).toEqual([]);
    expect(existsSync(path.join(state, 'rearguard.lock'))).toBe(false);
  });
  it('full once the units are done: the run cannot keep its own record, so it is partial (exit 1), and report, metrics and exit code agree', async () => {
    const state = await tmpfsAt('state', '256k');
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: ping
        run: ["true"]
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`,
    );
    const result = await runCli(['orchestrate'], {
      cwd: ws.dir,
      env: { NODE_OPTIONS: `--import ${FILL}`, REARGUARD_TEST_FILL_AT: 'unit s/ping: ok', REARGUARD_TEST_FILL_DIR: state },
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.verdictLine).toMatch(/^verdict: partial \(exit 1\): .*could not keep the report in state_dir\/runs\/\S+: ENOSPC/);
    const report = await ws.readJson('report.json');
    expect(report).toMatchObject({ verdict: 'partial', exit_code: 1 });
    expect(unitsOf(report).map((u) => [u.name, u.status])).toEqual([['ping', 'ok']]);
    expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(/^rearguard_run_status\{command="orchestrate"\} 1$/m);
    expect(existsSync(path.join(state, 'rearguard.lock'))).toBe(false);
  });
});

describe.runIf(tmpfsOk)('fault: ENOSPC on state_dir while a unit floods its log', () => {
  it('the log cannot be rewritten at the end: the unit keeps its status, the log keeps its head and says why the rest was dropped, nothing beside it', async () => {
    const state = await tmpfsAt('state', '512k');
    // The unit's last act fills state_dir: the fixed point is once rearguard has written its last line (in the
    // log's tail segment), before the log is cut to log_max. One page is freed again, room for rearguard's notes
    // but not for the rewritten log.
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: chatty
        run: [sh, -c, 'seq 1 30000; until grep -qx 30000 state/runs/*/chatty.log.tail-* 2>/dev/null; do :; done; head -c 10000000 /dev/zero > state/filler 2>/dev/null; i=0; while echo x > state/f$i 2>/dev/null; do i=$((i+1)); done; rm -f state/f0']
        log_max: 8KiB
`,
    );
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.stdout).toMatch(/^verdict: /m);
    const [unit] = unitsOf(await ws.readJson('r.json'));
    expect(unit!.status).toBe('ok');
    const printed = Array.from({ length: 30_000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(unit!.log_truncated).toEqual({ bytes: printed, dropped_bytes: printed - 8192 });
    const log = await readFile(unit!.log!, 'utf8');
    expect(log).toMatch(/\n1\n2\n3\n/);
    expect(log).toMatch(/log_max: the log could not be rewritten \(ENOSPC: no space left on device, write\); \d+ bytes of output after the first 8192 were dropped/);
    expect((await readdir(path.dirname(unit!.log!))).filter((n) => n.startsWith('chatty.log.'))).toEqual([]);
    expect(existsSync(path.join(state, 'rearguard.lock'))).toBe(false);
  });
});

describe.runIf(tmpfsOk)('fault: ENOSPC in the artifact folder during sqlite_backup', () => {
  it('fails naming ENOSPC and the folder; no final-named copy, no temp or journal left, lock released', async () => {
    const db = openTestDb(ws.file('app.db'));
    db.exec('CREATE TABLE t (x TEXT)');
    db.transaction(() => {
      for (let i = 0; i < 2500; i += 1) db.run('INSERT INTO t VALUES (?)', 'y'.repeat(200));
    });
    db.close();
    const backups = await tmpfsAt('backups', '192k');
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: db
        sqlite_backup: { source: app.db, dest: "backups/db-{timestamp}.sqlite3" }
        timeout: 30s
        artifacts:
          - path: backups/db-*.sqlite3
            sqlite: true
`,
    );
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout).toBe(2);
    const [unit] = unitsOf(await ws.readJson('r.json'));
    expect(unit!.status).toBe('failed');
    expect(unit!.message).toMatch(/no space left on device \(ENOSPC\) in \S*backups \(.* free once the partial copy was removed; the database is .*\); nothing was kept under the final name/);
    expect(await readdir(backups)).toEqual([]);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });
});

describe.runIf(tmpfsOk)('fault: ENOSPC in the restore scratch folder', () => {
  const config = (name: string): string => `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: files
        run: ["true"]
        artifacts:
          - path: backups/${name}
            restore: { scratch: scratch, command: [test, -d, .] }
`;

  it('content bigger than the scratch filesystem: the restore fails naming the room it needs, scratch removed', async () => {
    const scratch = await tmpfsAt('scratch', '256k');
    await makeTar(ws.file('backups/big.tar.gz'), { entries: { 'big.bin': Buffer.alloc(1024 * 1024, 0x30) } });
    await ws.write('rearguard.yml', config('big.tar.gz'));
    const result = await runCli(['restore-test', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout).toBe(2);
    const restore = unitsOf(await ws.readJson('r.json'))[0]!.artifacts![0]!.checks.find((c) => c.id === 'restore')!;
    expect(restore.status).toBe('failed');
    expect(restore.message).toMatch(/not enough room to restore: \S*scratch has .* free, the archive needs 1\.\d+ MiB uncompressed/);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('the filesystem runs out of inodes mid-restore: the restore fails naming ENOSPC, scratch removed', async () => {
    const scratch = await tmpfsAt('scratch', '1m', 12);
    await makeTar(ws.file('backups/many.tar.gz'), { entries: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.txt`, `${i}\n`])) });
    await ws.write('rearguard.yml', config('many.tar.gz'));
    const result = await runCli(['restore-test', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout).toBe(2);
    const restore = unitsOf(await ws.readJson('r.json'))[0]!.artifacts![0]!.checks.find((c) => c.id === 'restore')!;
    expect(restore.status).toBe('failed');
    expect(restore.message).toMatch(/could not restore f\d+\.txt: ENOSPC: no space left on device/);
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe.runIf(sshdOk)('fault: ENOSPC on the remote folder during an upload', () => {
  let sshd: Sshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('the upload fails naming the full disk; the previous copy is left as it was, no temp file on the remote', async () => {
    const remote = await tmpfsAt('nas', '256k');
    const previous = Buffer.from('previous good copy\n');
    await writeFile(path.join(remote, 'db.bin'), previous);
    await mkdir(ws.file('out'));
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
hosts:
${hostYaml(sshd)}stages:
  - name: dump
    units:
      - name: db
        run: [sh, -c, 'head -c 600000 /dev/urandom > out/db.bin']
        timeout: 30s
        artifacts:
          - path: out/db.bin
            upload: { host: nas, dir: ${remote} }
`,
    );
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    const upload = unitsOf(await ws.readJson('r.json'))[0]!.artifacts![0]!.checks.find((c) => c.id === 'upload')!;
    expect(upload.status).toBe('failed');
    expect(upload.message).toMatch(/upload of db\.bin to nas:\S+ failed: .*No space left on device/);
    expect(upload.message).toContain('the previous copy');
    expect(await readdir(remote)).toEqual(['db.bin']);
    expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(sha(previous));
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });
});

// Fault: the SSH server dies mid-run (sshd and its sessions killed with SIGKILL): while a remote unit runs, in the middle of an upload, and between the upload and the offsite check. The run fails those units clearly and promptly, keeps the last good remote copy, and leaves no process, temp file or lock behind.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { requireTool } from '../helpers/require-tool.js';
import { hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { waitForLines } from '../helpers/wait-line.js';

const KILL_SSHD_AT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'kill-sshd-at-line.mjs');
const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);
const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let sshd: Sshd;
let ws: Workspace;
let remote: string;
let proxy: TcpProxy | undefined;
let remotePids: number[] = [];
beforeEach(async () => {
  if (!available) return;
  // One server per test: each test kills it.
  sshd = await startSshd();
  ws = await makeWorkspace('rearguard-fault-sshd-');
  remote = ws.file('nas/backup');
  await mkdir(remote, { recursive: true });
  proxy = undefined;
  remotePids = [];
});
afterEach(async () => {
  if (!available) return;
  for (const pid of [...remotePids, ...processesNaming(ws.dir)]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  await proxy?.stop();
  await sshd.stop();
  await ws.cleanup();
});

/** Processes whose argv names `dir` (ssh clients and masters of the run, remote commands): none may outlive the run. */
function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir) && pidAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

const killSshdEnv = (at: string): Record<string, string> => ({
  NODE_OPTIONS: `--import ${KILL_SSHD_AT}`,
  REARGUARD_TEST_KILL_SSHD_AT: at,
  REARGUARD_TEST_SSHD_PIDFILE: path.join(sshd.dir, 'sshd.pid'),
});

type Check = { id: string; status: string; message: string };
type Unit = { name: string; status: string; message: string; artifacts?: Array<{ checks: Check[] }> };

async function readReport(): Promise<{ verdict: string; units: Unit[] }> {
  const report = await ws.readJson('r.json');
  return { verdict: report.verdict, units: report.stages.flatMap((s: { units: Unit[] }) => s.units) };
}

/** The invariants after any of these runs: lock released, and nothing the run started still runs, here or on the "host". */
async function expectNothingLeft(): Promise<void> {
  expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  await waitUntil(async () => processesNaming(ws.dir).length === 0 && remotePids.every((pid) => !pidAlive(pid)), 'every process of the run to end');
}

const uploadConfig = (bytes: number, extra = '', host = hostYaml(sshd)): string => `version: 1
state_dir: ./state
hosts:
${host}stages:
  - name: dump
    units:
      - name: db
        run: [sh, -c, 'mkdir -p out && head -c ${bytes} /dev/urandom > out/db.bin']
        timeout: 30s
        artifacts:
          - path: out/db.bin
            upload: { host: nas, dir: ${remote} }
${extra}`;

describe.runIf(available)('fault: the sshd killed mid-run', () => {
  it('while a remote unit runs: the unit fails naming the lost connection, the other unit still runs, the remote command ends', async () => {
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
hosts:
${hostYaml(sshd)}stages:
  - name: s
    units:
      - name: remote
        host: nas
        run: [sh, -c, 'echo $$ >> "$1"; sleep 300', sh, ${ws.file('pids')}]
        timeout: 30s
        kill_grace: 1s
      - name: local
        run: ["true"]
`,
    );
    const victim = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    remotePids = (await waitForLines(ws.file('pids'), 1)).map(Number);
    killSshdHard();
    const result = await victim;
    expect(result.exitCode, String(result.stdout)).toBe(2);
    const { verdict, units } = await readReport();
    expect(verdict).toBe('critical');
    expect(units.map((u) => [u.name, u.status])).toEqual([['remote', 'failed'], ['local', 'ok']]);
    expect(units[0]!.message).toBe(
      `the connection to nas (${sshd.user}@127.0.0.1) was lost while the command ran (ssh exited with 255 before the command's exit status arrived); whether it finished on the host is unknown`,
    );
    await expectNothingLeft();
  });

  it('in the middle of an upload: the upload fails clearly, the last good copy is untouched, no temp file is left', async () => {
    const good = Buffer.from('last good copy\n');
    await writeFile(path.join(remote, 'db.bin'), good);
    proxy = await startTcpProxy({ targetPort: sshd.port, bytesPerSecond: 512 * 1024 });
    const knownHostsFile = await ws.write('known_hosts_proxy', `${sshd.knownHostsLine.replace(`]:${sshd.port} `, `]:${proxy.port} `)}\n`);
    await ws.write('rearguard.yml', uploadConfig(2_000_000, '', hostYaml({ ...sshd, port: proxy.port, knownHostsFile })));
    const victim = startCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    // The fixed point: the temp file on the remote has its first bytes.
    await waitUntil(async () => {
      const [temp] = (await readdir(remote)).filter((n) => n.includes('.tmp.'));
      return temp !== undefined && (await stat(path.join(remote, temp)).then((s) => s.size > 0, () => false));
    }, 'the upload to start writing its temp file');
    killSshdHard();
    const result = await victim;
    expect(result.exitCode, String(result.stdout)).toBe(2);
    const { units } = await readReport();
    const upload = units[0]!.artifacts![0]!.checks.find((c) => c.id === 'upload')!;
    expect(upload.status).toBe('failed');
    expect(upload.message).toMatch(/^upload of db\.bin to nas:\S+ failed: the connection to nas \(\S+\) was lost while the command ran .*; the previous copy nas:\S+db\.bin \(if any\) was left as it was/);
    expect(units[0]!.status).toBe('failed');
    expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(sha(good));
    await expectNothingLeft();
    await waitUntil(async () => (await readdir(remote)).every((n) => !n.includes('.tmp.')), 'the remote side to drop its partial temp file');
  });

  it('after the upload was renamed, before offsite: offsite fails naming the host, the verified copy stays', async () => {
    await ws.write('rearguard.yml', uploadConfig(100_000, `            offsite: { host: nas, dir: ${remote} }\n`));
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir, env: killSshdEnv('check upload ok') });
    expect(result.exitCode, result.stdout).toBe(2);
    const { units } = await readReport();
    const checks = units[0]!.artifacts![0]!.checks;
    expect(checks.find((c) => c.id === 'upload')!.status).toBe('ok');
    const offsite = checks.find((c) => c.id === 'offsite')!;
    expect(offsite.status).toBe('failed');
    expect(offsite.message).toMatch(/^offsite copy nas:\S+db\.bin: connection to nas \(\S+ port \d+\) refused/);
    expect(units[0]!.status).toBe('failed');
    expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(sha(await readFile(ws.file('out/db.bin'))));
    await expectNothingLeft();
  });
});

/** SIGKILLs the sshd listener and its session processes (what the remote commands run under); the commands are left to notice. */
function killSshdHard(): void {
  const listener = Number(readFileSync(path.join(sshd.dir, 'sshd.pid'), 'utf8').trim());
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith('sshd')) parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const doomed = new Set([listener]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!doomed.has(pid) && doomed.has(parent)) {
        doomed.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
}

async function waitUntil(predicate: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

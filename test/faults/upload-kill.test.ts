// Fault: rearguard is killed with SIGKILL during an upload: in the middle of the transfer, and with the temp file complete and verified on the remote but not yet renamed. The last good remote copy is never overwritten, and the next normal run answers correctly and leaves no temp file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { requireTool } from '../helpers/require-tool.js';
import { hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const KILL_AT_SPAWN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'kill-at-spawn.mjs');
const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);
const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let sshd: Sshd;
let ws: Workspace;
let remote: string;
let proxy: TcpProxy | undefined;
beforeAll(async () => {
  if (available) sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-upload-kill-');
  remote = ws.file('nas/backup');
  await mkdir(remote, { recursive: true });
  proxy = undefined;
});
afterEach(async () => {
  for (const pid of sshClientsOf(ws.dir)) process.kill(pid, 'SIGKILL');
  await proxy?.stop();
  await ws.cleanup();
});

/** ssh client processes (masters included) started for this workspace's run: their argv names its state_dir. */
function sshClientsOf(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0] ?? '') === 'ssh' && argv.some((arg) => arg.includes(dir)) && pidAlive(Number(entry))) found.push(Number(entry));
  }
  return found;
}

/** A config whose unit writes `bytes` random bytes to out/db.bin, uploaded to nas:<remote> (through `proxied`, when given). */
function config(bytes: number, proxied?: { port: number; knownHostsFile: string }): string {
  return `version: 1
state_dir: ./state
hosts:
${hostYaml({ ...sshd, ...proxied })}stages:
  - name: dump
    units:
      - name: db
        run: [sh, -c, 'mkdir -p out && head -c ${bytes} /dev/urandom > out/db.bin']
        timeout: 60s
        artifacts:
          - path: out/db.bin
            upload: { host: nas, dir: ${remote} }
`;
}

const tempFiles = async (): Promise<string[]> => (await readdir(remote)).filter((n) => n.includes('.tmp.'));

/** Puts the last good copy in place, as an earlier run would have. */
async function lastGoodCopy(): Promise<string> {
  const old = Buffer.from('last good copy\n');
  await writeFile(path.join(remote, 'db.bin'), old);
  return sha(old);
}

/** The normal run after the kill: it recovers the lock, uploads, verifies and renames; nothing is left behind. */
async function expectNextRunAnswers(killedRunTemp?: string): Promise<void> {
  await ws.write('rearguard.yml', config(50_000));
  const next = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
  expect(next.exitCode, next.stdout + next.stderr).toBe(0);
  expect(next.stderr).toMatch(/recovered a stale lock/);
  const upload = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: { id: string }) => c.id === 'upload');
  expect(upload.status).toBe('ok');
  if (killedRunTemp) expect(upload.message).toContain(`removed ${killedRunTemp}, left by an interrupted upload`);
  expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(sha(await readFile(ws.file('out/db.bin'))));
  expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  // The dead run's connection was told to exit: its session ends, the remote side drops its partial temp file.
  await waitUntil(async () => sshClientsOf(ws.dir).length === 0, 'no ssh process of either run to be left', 5_000);
  await waitUntil(async () => (await tempFiles()).length === 0, 'no temp file to be left on the remote', 5_000);
}

describe.runIf(available)('fault: kill -9 of rearguard during an upload', () => {
  it('before the remote rename (temp file complete and verified): the last good copy is untouched, the next run removes the temp and answers', async () => {
    const good = await lastGoodCopy();
    await ws.write('rearguard.yml', config(300_000));
    const killed = await runCli(['orchestrate'], { cwd: ws.dir, env: { NODE_OPTIONS: `--import ${KILL_AT_SPAWN}`, REARGUARD_TEST_KILL_SPAWN: 'rearguard-commit' } });
    expect(killed.exitCode).toBe(-1);
    // The fixed point was reached: the whole file is on the remote under its temp name, the final name untouched.
    const [temp] = await tempFiles();
    expect(temp).toBeDefined();
    expect((await stat(path.join(remote, temp!))).size).toBe(300_000);
    expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(good);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(true);
    await expectNextRunAnswers(path.join(remote, temp!));
  });

  it('in the middle of the transfer: the last good copy is untouched; the next run stops the dead run\'s connection, answers, and no temp file or ssh process is left', async () => {
    const good = await lastGoodCopy();
    // Slowed so that the kill lands mid-transfer; the dead run's ssh master still holds buffered bytes then.
    proxy = await startTcpProxy({ targetPort: sshd.port, bytesPerSecond: 256 * 1024 });
    const knownHostsFile = await ws.write('known_hosts_proxy', `${sshd.knownHostsLine.replace(`]:${sshd.port} `, `]:${proxy.port} `)}\n`);
    await ws.write('rearguard.yml', config(2_000_000, { port: proxy.port, knownHostsFile }));
    const victim = startCli(['orchestrate'], { cwd: ws.dir });
    // The fixed point: the temp file on the remote has its first bytes.
    await waitUntil(async () => {
      const [temp] = await tempFiles();
      return temp !== undefined && (await stat(path.join(remote, temp)).then((s) => s.size > 0, () => false));
    }, 'the upload to start writing its temp file');
    victim.kill('SIGKILL');
    await victim;
    expect(sha(await readFile(path.join(remote, 'db.bin')))).toBe(good);
    expect(sshClientsOf(ws.dir).length, 'the dead run\'s ssh master still runs until a run stops it').toBeGreaterThan(0);
    await expectNextRunAnswers();
  });
});

async function waitUntil(predicate: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

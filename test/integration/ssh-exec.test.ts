// runRemote against real loopback sshd servers: quoting, env, reuse, retries, timeouts that reach the remote side, host keys.
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshExec, type SshExec } from '../../src/exec/ssh.js';
import { listRemoteTempFiles } from '../../src/exec/remote-temp-files.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { freePort, resolvedHostFor, startSshd, type Sshd } from '../helpers/sshd.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import type { ResolvedHost } from '../../src/config/types.js';

const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);

/** True while a process exists and is not a zombie. */
async function processAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

async function waitFor(test: () => Promise<boolean>, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return test();
}

const spec = (argv: string[], extra: Partial<Parameters<SshExec['runRemote']>[1]> = {}) => ({
  argv,
  timeoutMs: 20_000,
  killGraceMs: 1_000,
  ...extra,
});

describe.runIf(available)('runRemote over OpenSSH', () => {
  let a: Sshd;
  let b: Sshd;
  let ws: Workspace;
  beforeAll(async () => {
    ws = await makeWorkspace();
    a = await startSshd();
    b = await startSshd({ identityFile: a.identityFile });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await ws?.cleanup();
  });

  const execFor = (hosts: Record<string, ResolvedHost>, env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' }) =>
    createSshExec({ hosts, stateDir: ws.file('state'), env, retryBaseMs: 50 });

  it('passes arguments as data, returns the exit code and exports only the env a unit adds', async () => {
    const exec = execFor({ nas: resolvedHostFor(a) });
    try {
      const tricky = ["it's", '$HOME', '`id`', 'a b', '; rm -rf /tmp/x', '*', ''];
      const echoed = await exec.runRemote('nas', spec(['sh', '-c', 'for x in "$@"; do printf "<%s>\\n" "$x"; done; exit 7', 'sh', ...tricky]));
      expect(echoed.exitCode).toBe(7);
      expect(echoed.startError).toBeUndefined();
      expect(echoed.output.trim().split('\n')).toEqual(tricky.map((t) => `<${t}>`));
      expect(echoed.output).not.toContain('[rearguard remote');

      const env = await exec.runRemote(
        'nas',
        spec(['sh', '-c', 'printf "%s|%s|%s" "$DB_PASSWORD" "$MULTI" "${PATH:+path-set}"'], {
          env: { PATH: `/somewhere/local/only:${process.env.PATH}`, HOME: process.env.HOME ?? '/root', DB_PASSWORD: "s3cr'et $x", MULTI: 'line1\nline2' },
        }),
      );
      // PATH differs from the client's env, so it is exported too; HOME is the same and stays the remote's.
      expect(env.output).toBe("s3cr'et $x|line1\nline2|path-set");

      const input = await exec.runRemote('nas', spec(['sh', '-c', 'wc -c'], { input: 'twelve bytes' }));
      expect(input.output.trim()).toBe('12');
    } finally {
      await exec.close();
    }
  });

  it('lists orphaned upload temp files in a remote folder, for audit', async () => {
    const dir = ws.file('nas dir');
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/.db.bin.tmp.k1-abcd`, 'half');
    await utimes(`${dir}/.db.bin.tmp.k1-abcd`, 1_700_000_000, 1_700_000_000);
    await writeFile(`${dir}/db.bin`, 'whole');
    await writeFile(`${dir}/.hidden`, 'not a temp file');
    const exec = execFor({ nas: resolvedHostFor(a) });
    try {
      expect(await listRemoteTempFiles(exec, 'nas', dir)).toEqual([{ path: `${dir}/.db.bin.tmp.k1-abcd`, bytes: 4, mtimeMs: 1_700_000_000_000 }]);
      await expect(listRemoteTempFiles(exec, 'nas', ws.file('missing'))).rejects.toThrow(/is not a directory/);
    } finally {
      await exec.close();
    }
  });

  it('reuses one login for many commands and closes it at the end', async () => {
    const before = (a.log().match(/Accepted publickey/g) ?? []).length;
    const exec = execFor({ nas: resolvedHostFor(a) });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => exec.runRemote('nas', spec(['echo', `n${i}`]))));
    expect(results.map((r) => r.output.trim())).toEqual(Array.from({ length: 12 }, (_, i) => `n${i}`));
    expect((a.log().match(/Accepted publickey/g) ?? []).length - before).toBe(1);
    await exec.close();
    // The control folder (with its socket) is gone after close.
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(ws.file('state'))).filter((n) => n.startsWith('ssh-'))).toEqual([]);
  });

  it('bounds commands at once per host with its concurrency, across callers', async () => {
    const trace = ws.file('trace-a');
    await writeFile(trace, '');
    const exec = execFor({ nas: resolvedHostFor(a, 'nas', { concurrency: 2 }), other: resolvedHostFor(b, 'other', { concurrency: 3 }) });
    const traceB = ws.file('trace-b');
    await writeFile(traceB, '');
    const job = (file: string) => spec(['sh', '-c', 'echo + >> "$1"; sleep 1; echo - >> "$1"', 'sh', file]);
    await Promise.all([
      ...Array.from({ length: 6 }, () => exec.runRemote('nas', job(trace))),
      ...Array.from({ length: 6 }, () => exec.runRemote('other', job(traceB))),
    ]);
    await exec.close();
    const peak = (text: string): number => {
      let now = 0;
      let max = 0;
      for (const c of text.split('\n').filter(Boolean)) {
        now += c === '+' ? 1 : -1;
        max = Math.max(max, now);
      }
      return max;
    };
    expect(peak(await readFile(trace, 'utf8'))).toBe(2);
    expect(peak(await readFile(traceB, 'utf8'))).toBe(3);
  });

  it('on timeout terminates the remote process group too, including children that ignore SIGTERM', async () => {
    const exec = execFor({ nas: resolvedHostFor(a) });
    const pids = ws.file('pids');
    const started = Date.now();
    const result = await exec.runRemote(
      'nas',
      spec(['sh', '-c', 'sleep 300 & echo $! > "$1"; (trap "" TERM; sleep 300) & echo $! >> "$1"; echo $$ >> "$1"; wait', 'sh', pids], {
        timeoutMs: 1_500,
        killGraceMs: 1_000,
      }),
    );
    await exec.close();
    expect(result.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
    const list = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    expect(list).toHaveLength(3);
    expect(await waitFor(async () => !(await Promise.all(list.map(processAlive))).some(Boolean))).toBe(true);
  });

  it('on abort stops the remote command and reports it aborted', async () => {
    const exec = execFor({ nas: resolvedHostFor(a) });
    const pidFile = ws.file('abort-pid');
    const controller = new AbortController();
    const running = exec.runRemote('nas', spec(['sh', '-c', 'echo $$ > "$1"; exec sleep 300', 'sh', pidFile], { signal: controller.signal }));
    expect(await waitFor(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 10_000)).toBe(true);
    controller.abort('SIGTERM');
    const result = await running;
    await exec.close();
    expect(result.aborted).toBe(true);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(await waitFor(async () => !(await processAlive(pid)))).toBe(true);
  });

  it('a cut connection ends the remote command too (the session closing is the stop signal)', async () => {
    const proxy = await startTcpProxy({ targetPort: a.port });
    const knownHosts = ws.file('known_hosts_cut');
    await writeFile(knownHosts, `${a.knownHostsLine.replace(`]:${a.port} `, `]:${proxy.port} `)}\n`);
    const exec = execFor({ nas: resolvedHostFor(a, 'nas', { port: proxy.port, knownHosts }) });
    const pidFile = ws.file('cut-pid');
    try {
      const running = exec.runRemote('nas', spec(['sh', '-c', 'echo $$ > "$1"; exec sleep 300', 'sh', pidFile], { timeoutMs: 60_000 }));
      expect(await waitFor(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 10_000)).toBe(true);
      proxy.cutAll();
      const result = await running;
      expect(result.exitCode).toBe(255);
      expect(result.timedOut).toBe(false);
      const pid = Number((await readFile(pidFile, 'utf8')).trim());
      expect(await waitFor(async () => !(await processAlive(pid)), 10_000)).toBe(true);
    } finally {
      await exec.close();
      await proxy.stop();
    }
  });

  it('never re-runs a command that ran, even when it exits 255', async () => {
    const exec = execFor({ nas: resolvedHostFor(a, 'nas', { retries: 3 }) });
    const ran = ws.file('ran');
    const result = await exec.runRemote('nas', spec(['sh', '-c', 'echo ran >> "$1"; exit 255', 'sh', ran]));
    await exec.close();
    expect(result.exitCode).toBe(255);
    expect(result.startError).toBeUndefined();
    expect((await readFile(ran, 'utf8')).trim().split('\n')).toEqual(['ran']);
  });

  it('retries a closed port with backoff, then says what is wrong', async () => {
    const port = await freePort();
    const exec = execFor({ down: resolvedHostFor(a, 'down', { port, retries: 2 }) });
    const result = await exec.runRemote('down', spec(['true']));
    await exec.close();
    expect(result.exitCode).toBe(255);
    expect(result.startError).toContain(`connection to down (${a.user}@127.0.0.1 port ${port}) refused`);
    expect(result.startError).toContain('(after 3 attempts)');
  });

  it('refuses an unknown host key, names the offered fingerprint and leaves known_hosts alone', async () => {
    const knownHosts = ws.file('known_hosts_other');
    await writeFile(knownHosts, `${b.knownHostsLine}\n`);
    const before = createHash('sha256').update(await readFile(knownHosts)).digest('hex');
    const exec = execFor({ nas: resolvedHostFor(a, 'nas', { knownHosts, retries: 2 }) });
    const result = await exec.runRemote('nas', spec(['true']));
    await exec.close();
    expect(result.exitCode).toBe(255);
    expect(result.startError).toContain('is not in');
    expect(result.startError).toContain(a.hostKeyFingerprint);
    expect(result.startError).not.toContain('attempts');
    expect(createHash('sha256').update(await readFile(knownHosts)).digest('hex')).toBe(before);
  });

  it('refuses a changed host key with the new fingerprint', async () => {
    const knownHosts = ws.file('known_hosts_changed');
    // b's key recorded under a's address: to ssh, a's key changed.
    const line = b.knownHostsLine.replace(`]:${b.port} `, `]:${a.port} `);
    await writeFile(knownHosts, `${line}\n`);
    const exec = execFor({ nas: resolvedHostFor(a, 'nas', { knownHosts }) });
    const result = await exec.runRemote('nas', spec(['true']));
    await exec.close();
    expect(result.startError).toContain('has CHANGED');
    expect(result.startError).toContain(a.hostKeyFingerprint);
    expect(await readFile(knownHosts, 'utf8')).toBe(`${line}\n`);
  });
});

// upload and offsite end to end: the built CLI, a real sshd, faults on the wire and on the remote disk.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { IN_CI, requireTool } from '../helpers/require-tool.js';
import { hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);

let sshd: Sshd;
let ws: Workspace;
let remote: string;

beforeAll(async () => {
  if (available) sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  ws = await makeWorkspace();
  remote = ws.file('nas/backup');
  await mkdir(remote, { recursive: true });
});
afterEach(async () => {
  await ws.cleanup();
});

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A config whose unit writes `bytes` random bytes to out/db.bin, uploaded to `remoteDir` on `hosts.nas`. */
function uploadConfig(options: { hosts: string; bytes: number; remoteDir?: string; artifactExtra?: string }): string {
  return `version: 1
hosts:
${options.hosts}stages:
  - name: dump
    units:
      - name: db
        run: [sh, -c, 'mkdir -p out && head -c ${options.bytes} /dev/urandom > out/db.bin']
        timeout: 60s
        artifacts:
          - path: out/db.bin
            upload: { host: nas, dir: ${options.remoteDir ?? remote} }
${options.artifactExtra ?? ''}`;
}

async function orchestrate(config: string, env: Record<string, string> = {}) {
  await ws.write('rearguard.yml', config);
  const result = await runCli(['orchestrate', '--json', 'report.json'], { cwd: ws.dir, env });
  return { ...result, report: await ws.readJson('report.json') };
}

const checksOf = (report: any): Array<{ id: string; status: string; message: string }> => report.stages[0].units[0].artifacts[0].checks;
const tempFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.includes('.tmp.'));

/** Puts a "previous good copy" in place, as an earlier run would have. */
async function previousCopy(dir = remote): Promise<Buffer> {
  const old = Buffer.from('previous good copy\n');
  await writeFile(`${dir}/db.bin`, old);
  return old;
}

describe.runIf(available)('upload and offsite over SSH', () => {
  it('uploads through a temp file, verifies it remotely, renames it, then offsite proves the final copy', async () => {
    const { exitCode, verdictLine, report } = await orchestrate(uploadConfig({ hosts: hostYaml(sshd), bytes: 300_000 }));
    expect(exitCode).toBe(0);
    expect(verdictLine).toMatch(/^verdict: ok \(exit 0\)/);
    const checks = checksOf(report);
    expect(checks.map((c) => c.id).slice(-2)).toEqual(['upload', 'offsite']);
    expect(checks.every((c) => c.status === 'ok')).toBe(true);
    const local = await readFile(ws.file('out/db.bin'));
    const copy = await readFile(`${remote}/db.bin`);
    expect(sha(copy)).toBe(sha(local));
    expect(checks.find((c) => c.id === 'upload')!.message).toContain(`sha256 ${sha(local)} verified`);
    expect(await tempFiles(remote)).toEqual([]);
  });

  it('re-uploading the same name replaces the copy only with the new, verified bytes', async () => {
    await previousCopy();
    const config = uploadConfig({ hosts: hostYaml(sshd), bytes: 50_000 });
    const first = await orchestrate(config);
    expect(first.exitCode).toBe(0);
    const firstCopy = await readFile(`${remote}/db.bin`);
    const second = await orchestrate(config);
    expect(second.exitCode).toBe(0);
    const secondCopy = await readFile(`${remote}/db.bin`);
    expect(sha(secondCopy)).toBe(sha(await readFile(ws.file('out/db.bin'))));
    expect(sha(secondCopy)).not.toBe(sha(firstCopy));
    expect(await tempFiles(remote)).toEqual([]);
  });

  it('fails offsite when the remote copy has the same size but different bytes', async () => {
    await ws.write('out/db.bin', 'the real backup bytes\n');
    await writeFile(`${remote}/db.bin`, 'the fake backup bytes\n');
    await ws.write(
      'rearguard.yml',
      `version: 1
hosts:
${hostYaml(sshd)}stages:
  - name: dump
    units:
      - name: db
        run: ["true"]
        artifacts:
          - path: out/db.bin
            max_age: 1h
            offsite: { host: nas, dir: ${remote} }
`,
    );
    const result = await runCli(['verify', '--json', 'report.json'], { cwd: ws.dir });
    const report = await ws.readJson('report.json');
    expect(result.exitCode).toBe(2);
    const offsite = checksOf(report).find((c) => c.id === 'offsite')!;
    expect(offsite.status).toBe('failed');
    expect(offsite.message).toContain('same size, different bytes');
    expect(offsite.message).toContain(sha('the fake backup bytes\n'));
  });

  it('fails offsite when there is no remote copy at all', async () => {
    await ws.write('out/db.bin', 'bytes\n');
    await ws.write(
      'rearguard.yml',
      `version: 1
hosts:
${hostYaml(sshd)}stages:
  - name: dump
    units:
      - name: db
        run: ["true"]
        artifacts:
          - path: out/db.bin
            offsite: { host: nas, dir: ${remote} }
`,
    );
    const result = await runCli(['verify', '--json', 'report.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(checksOf(await ws.readJson('report.json')).find((c) => c.id === 'offsite')!.message).toContain(`no offsite copy: expected nas:${remote}/db.bin to exist`);
  });

  describe.each([
    ['prints nothing', 'exit 0', 'printed nothing'],
    ['prints garbage', 'echo "sha256sum: not really"; exit 0', 'garbled answer'],
  ])('when the remote sha256sum %s', (_name, script, expected) => {
    let broken: Sshd;
    beforeAll(async () => {
      const bin = `${sshd.dir}-fakebin-${expected.replace(/\W/g, '')}`;
      await mkdir(bin, { recursive: true });
      await writeFile(`${bin}/sha256sum`, `#!/bin/sh\ncat >/dev/null\n${script}\n`);
      await chmod(`${bin}/sha256sum`, 0o755);
      broken = await startSshd({ setEnv: { PATH: `${bin}:/usr/bin:/bin` } });
    });
    afterAll(async () => {
      await broken?.stop();
    });

    it('fails the upload, removes the temp file and keeps the previous copy', async () => {
      const old = await previousCopy();
      const { exitCode, report } = await orchestrate(uploadConfig({ hosts: hostYaml(broken), bytes: 20_000 }));
      expect(exitCode).toBe(2);
      const upload = checksOf(report).find((c) => c.id === 'upload')!;
      expect(upload.status).toBe('failed');
      expect(upload.message).toContain(expected);
      expect(upload.message).toContain('removed');
      expect(checksOf(report).find((c) => c.id === 'offsite')!.status).toBe('skipped');
      expect(await readFile(`${remote}/db.bin`)).toEqual(old);
      expect(await tempFiles(remote)).toEqual([]);
    });
  });

  it('fails cleanly when the remote disk is full', async () => {
    const full = ws.file('tiny');
    await mkdir(full);
    const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', full], { reject: false });
    if (mounted.exitCode !== 0) {
      if (IN_CI) throw new Error(`mounting a tmpfs is required under CI (run as root): ${mounted.stderr}`);
      console.warn(`skipping the disk-full case: cannot mount a tmpfs here (${mounted.stderr})`);
      return;
    }
    try {
      const old = await previousCopy(full);
      const { exitCode, report } = await orchestrate(uploadConfig({ hosts: hostYaml(sshd), bytes: 600_000, remoteDir: full }));
      expect(exitCode).toBe(2);
      const upload = checksOf(report).find((c) => c.id === 'upload')!;
      expect(upload.status).toBe('failed');
      expect(upload.message).toMatch(/No space left on device|writing .* failed/);
      expect(await readFile(`${full}/db.bin`)).toEqual(old);
      expect(await tempFiles(full)).toEqual([]);
    } finally {
      await execa('umount', [full], { reject: false });
    }
  });

  describe('through a TCP proxy', () => {
    let proxy: TcpProxy | undefined;
    afterEach(async () => {
      await proxy?.stop();
      proxy = undefined;
    });

    /** hosts.nas pointing at the proxy, with a known_hosts entry for the proxy's port. */
    async function proxiedHost(p: TcpProxy): Promise<string> {
      const knownHosts = ws.file('known_hosts_proxy');
      await writeFile(knownHosts, `${sshd.knownHostsLine.replace(`]:${sshd.port} `, `]:${p.port} `)}\n`);
      return hostYaml({ ...sshd, port: p.port, knownHostsFile: knownHosts });
    }

    it('a connection cut mid-upload fails the unit, leaves no temp file and keeps the previous copy', async () => {
      proxy = await startTcpProxy({ targetPort: sshd.port, cutAfterBytes: 1_000_000 });
      const old = await previousCopy();
      const { exitCode, report } = await orchestrate(uploadConfig({ hosts: await proxiedHost(proxy), bytes: 3_000_000 }));
      expect(proxy.wasCut()).toBe(true);
      expect(exitCode).toBe(2);
      const upload = checksOf(report).find((c) => c.id === 'upload')!;
      expect(upload.status).toBe('failed');
      expect(upload.message).toContain('upload of db.bin to nas');
      expect(upload.message).toContain('previous copy');
      expect(await readFile(`${remote}/db.bin`)).toEqual(old);
      // The remote side removes a short temp file by itself even when nobody can reach it any more.
      const deadline = Date.now() + 5_000;
      while ((await tempFiles(remote)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await tempFiles(remote)).toEqual([]);
    });

    it('SIGTERM during an upload exits 2, removes the remote temp file and keeps the previous copy', async () => {
      proxy = await startTcpProxy({ targetPort: sshd.port, bytesPerSecond: 1_000_000 });
      const old = await previousCopy();
      await ws.write('rearguard.yml', uploadConfig({ hosts: await proxiedHost(proxy), bytes: 8_000_000 }));
      const child = startCli(['orchestrate', '--json', 'report.json'], { cwd: ws.dir });
      const deadline = Date.now() + 30_000;
      while ((await tempFiles(remote)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await tempFiles(remote)).toHaveLength(1);
      child.kill('SIGTERM');
      const result = toCliResult(await child);
      expect(result.exitCode).toBe(2);
      expect(result.verdictLine).toContain('aborted by SIGTERM');
      const report = await ws.readJson('report.json');
      expect(report.reason).toContain('aborted by SIGTERM');
      expect(checksOf(report).find((c) => c.id === 'upload')!.message).toContain('aborted');
      expect(await readFile(`${remote}/db.bin`)).toEqual(old);
      expect(await tempFiles(remote)).toEqual([]);
    });
  });
});

// The test servers' start on a free port: a port taken before the server binds it is retried on another one, and the
// words that tell that race apart are the real ones of sshd and the Pushgateway on a port someone holds.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PORT_TAKEN, PortTakenError, startOnFreePort } from '../helpers/free-port.js';
import { SSHD } from '../helpers/sshd.js';

let dir: string;
let holder: net.Server | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'free-port-'));
});
afterEach(async () => {
  await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
  holder = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Holds `port` on 127.0.0.1 the way another test's server would. */
async function hold(port: number): Promise<void> {
  holder = net.createServer();
  await new Promise<void>((resolve) => holder!.listen(port, '127.0.0.1', resolve));
}

describe('startOnFreePort', () => {
  it('starts again on another port when the first one was taken before the bind, and gives the server it got', async () => {
    const tried: number[] = [];
    const server = await startOnFreePort(async (port) => {
      tried.push(port);
      // The first port is taken in between, as a race would take it; the kernel refuses the second bind.
      if (tried.length === 1) await hold(port);
      const candidate = net.createServer();
      await new Promise<void>((resolve, reject) => {
        candidate.once('error', (error) => reject(PORT_TAKEN.test(error.message) ? new PortTakenError(error.message) : error));
        candidate.listen(port, '127.0.0.1', resolve);
      });
      return candidate;
    });
    expect(tried).toHaveLength(2);
    expect(tried[1]).not.toBe(tried[0]);
    expect((server.address() as net.AddressInfo).port).toBe(tried[1]);
    await new Promise((resolve) => server.close(resolve));
  });

  it('throws any other failure at once, and a taken port after the last attempt', async () => {
    let calls = 0;
    await expect(startOnFreePort(async () => { calls += 1; throw new Error('no host key'); })).rejects.toThrow('no host key');
    expect(calls).toBe(1);
    calls = 0;
    await expect(startOnFreePort(async () => { calls += 1; throw new PortTakenError('taken'); }, 3)).rejects.toThrow(PortTakenError);
    expect(calls).toBe(3);
  });

  it('knows the words of sshd and the Pushgateway for a port someone holds', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder = server;
    const port = (server.address() as net.AddressInfo).port;
    const hostKey = path.join(dir, 'host_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    const sshd = await execa(SSHD, ['-D', '-e', '-f', '/dev/null', '-o', 'ListenAddress=127.0.0.1', '-o', `Port=${port}`, '-h', hostKey], { reject: false, all: true, timeout: 10_000 });
    expect(sshd.exitCode).not.toBe(0);
    expect(sshd.all).toMatch(PORT_TAKEN);
    const pushgateway = await execa('/usr/bin/prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'], { reject: false, all: true, timeout: 10_000, cwd: dir });
    // It stops at once, with exit status 0: only its words say why.
    expect(pushgateway.timedOut).toBe(false);
    expect(pushgateway.all).toMatch(PORT_TAKEN);
  });
});

// Starts a real OpenSSH server on loopback for a test: throwaway host key, client key, known_hosts.
import { execa, type ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedHost } from '../../src/config/types.js';
import { PORT_TAKEN, PortTakenError, startOnFreePort } from './free-port.js';

/** Absolute path of the Debian openssh-server daemon. */
export const SSHD = '/usr/sbin/sshd';

/** What a test may change about the server. */
export interface SshdOptions {
  /** `SetEnv` of every session (e.g. a PATH whose sha256sum is a broken wrapper). */
  setEnv?: Record<string, string>;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /** Reuse an existing client key instead of generating one (several servers, one client). */
  identityFile?: string;
  /**
   * Let bash source the login user's ~/.bashrc in every session (default false). Tests run as root
   * on machines whose root .bashrc may do slow things (pyenv init); SHLVL=1 tells bash it is not
   * the top-level shell of an ssh session, so the remote commands cost what rearguard costs.
   */
  sourceBashrc?: boolean;
}

/** A running sshd and what a client needs to log in to it. */
export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** The private key authorised on this server. */
  identityFile: string;
  /** A known_hosts file holding this server's host key (and nothing else). */
  knownHostsFile: string;
  /** The known_hosts line of this server, to build other known_hosts files. */
  knownHostsLine: string;
  /** SHA256 fingerprint of the host key, as ssh prints it ("SHA256:..."). */
  hostKeyFingerprint: string;
  /** The server's private folder (config, keys, log). */
  dir: string;
  /** sshd's own log (-e), for debugging failed tests. */
  log(): string;
  stop(): Promise<void>;
}

export { freePort } from './free-port.js';

/** Generates an ed25519 key pair without passphrase; returns the private key path. */
export async function makeClientKey(dir: string, name = 'id_ed25519'): Promise<string> {
  const file = path.join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rearguard-test', '-f', file]);
  return file;
}

/** The "SHA256:..." fingerprint of an OpenSSH public key line ("type base64 [comment]"). */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Starts `/usr/sbin/sshd -D -e -f <config>` as the current user (root in CI) on a free loopback
 * port and resolves once it listens. Keys and config live in a temp folder removed by stop().
 */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  // The privilege separation folder must exist, or sshd refuses to start.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-sshd-'));
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-host', '-f', hostKey]);
  const identityFile = options.identityFile ?? (await makeClientKey(dir));
  const clientPublic = await readFile(`${identityFile}.pub`, 'utf8');
  await writeFile(path.join(dir, 'authorized_keys'), clientPublic, { mode: 0o600 });
  const hostPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
  const [type, key] = hostPublic.split(/\s+/);
  const knownHostsFile = path.join(dir, 'known_hosts');
  const configFile = path.join(dir, 'sshd_config');
  let output = '';
  // The process is returned inside an object: a promise of execa's result would wait for sshd to exit.
  const listen = async (port: number): Promise<{ started: ResultPromise }> => {
    await writeFile(knownHostsFile, `[127.0.0.1]:${port} ${type} ${key}\n`, { mode: 0o600 });
    const config = [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      'LogLevel INFO',
      // sshd keeps only the first SetEnv line: every variable goes on one.
      `SetEnv ${Object.entries({ ...(options.sourceBashrc ? {} : { SHLVL: '1' }), ...options.setEnv }).map(([k, v]) => `${k}="${v}"`).join(' ')}`,
      ...(options.extraConfig ?? []),
    ];
    await writeFile(configFile, `${config.join('\n')}\n`, { mode: 0o600 });
    output = '';
    const started: ResultPromise = execa(SSHD, ['-D', '-e', '-f', configFile], { reject: false, stdin: 'ignore', all: true, buffer: false });
    started.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within 10s:\n${output}`)), 10_000);
      const poll = setInterval(() => {
        if (output.includes('Server listening on')) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 20);
      void started.then((result) => {
        clearInterval(poll);
        clearTimeout(timer);
        const message = `sshd exited with ${result.exitCode} before listening:\n${output}`;
        reject(PORT_TAKEN.test(output) ? new PortTakenError(message) : new Error(message));
      });
    });
    return { started };
  };
  let port = 0;
  const { started: child } = await startOnFreePort(async (candidate) => {
    const listening = await listen(candidate);
    port = candidate;
    return listening;
  });
  const knownHostsLine = `[127.0.0.1]:${port} ${type} ${key}`;

  const pid = child.pid!;
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    identityFile,
    knownHostsFile,
    knownHostsLine,
    hostKeyFingerprint: fingerprintOf(hostPublic),
    dir,
    log: () => output,
    async stop() {
      // Session processes are children of the listener; end them too so nothing outlives the test.
      for (const child of await childrenOf(pid)) safeKill(child, 'SIGTERM');
      safeKill(pid, 'SIGTERM');
      await child.catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) found.push(Number(entry));
  }
  return found;
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** A ResolvedHost pointing at `sshd`, for tests that use src/exec directly. */
export function resolvedHostFor(sshd: Sshd, name = 'nas', overrides: Partial<ResolvedHost> = {}): ResolvedHost {
  return {
    name,
    destination: `${sshd.user}@${sshd.host}`,
    port: sshd.port,
    identityFile: sshd.identityFile,
    knownHosts: sshd.knownHostsFile,
    connectTimeoutMs: 5_000,
    retries: 0,
    sshOptions: {},
    ...overrides,
  };
}

/** The `hosts:` entry (YAML, indented for `hosts:`) pointing at `sshd`, for end-to-end tests. */
export function hostYaml(sshd: Sshd, name = 'nas', extra: Record<string, string | number> = {}): string {
  const lines = [
    `  ${name}:`,
    `    ssh: ${sshd.user}@${sshd.host}`,
    `    port: ${sshd.port}`,
    `    identity_file: ${sshd.identityFile}`,
    `    known_hosts: ${sshd.knownHostsFile}`,
    '    connect_timeout: 5s',
    ...Object.entries({ retries: 0, ...extra }).map(([k, v]) => `    ${k}: ${v}`),
  ];
  return `${lines.join('\n')}\n`;
}

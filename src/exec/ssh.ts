// The SSH side of Exec: one SshHost per configured host, control sockets in a private folder, closed at run end.
import { processExists } from '../util/process-exists.js';
import { execaSync } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedHost } from '../config/types.js';
import { SshHost } from './ssh-host.js';
import { RETRY_BASE_MS } from './ssh-retry.js';
import type { ProcessResult, ProcessSpec } from './types.js';

/** Options of the SSH side of a run. */
export interface SshExecOptions {
  hosts: Record<string, ResolvedHost>;
  stateDir: string;
  /** Environment of the ssh client and the baseline for remote env (default: this process's). */
  env?: Record<string, string>;
  /** First retry delay (tests shorten it). */
  retryBaseMs?: number;
}

/** Runs commands on configured hosts; `close()` ends every shared connection. */
export interface SshExec {
  runRemote(host: string, spec: ProcessSpec): Promise<ProcessResult>;
  close(): Promise<void>;
}

/** unix socket paths are limited to 108 bytes; ssh adds a 17-byte suffix while it creates one. */
const MAX_CONTROL_DIR = 80;

/**
 * Makes the private (0700) folder of the run's control sockets: in state_dir, or the temp dir when
 * too long. Its name carries our pid, so folders of runs that were killed (SIGKILL leaves them
 * behind) are recognised and removed here.
 */
export function makeControlDir(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  removeDeadControlDirs(stateDir);
  let dir = mkdtempSync(path.join(stateDir, `ssh-${process.pid}-`));
  if (dir.length > MAX_CONTROL_DIR) {
    rmSync(dir, { recursive: true, force: true });
    removeDeadControlDirs(os.tmpdir(), 'rearguard-ssh-');
    dir = mkdtempSync(path.join(os.tmpdir(), `rearguard-ssh-${process.pid}-`));
  }
  // mkdtemp already creates 0700; say it anyway, the sockets are as good as a login.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Removes `<prefix><pid>-*` folders in `dir` whose process no longer exists. A run killed with SIGKILL
 * leaves its shared connections running (ssh daemonises them, ControlPersist keeps them up, and a session
 * still sending what it had buffered keeps them busy): each is told to exit through its socket first,
 * ending its sessions, so nothing of the dead run keeps writing on a host.
 */
export function removeDeadControlDirs(dir: string, prefix = 'ssh-'): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || processExists(pid)) continue;
    stopOrphanMasters(path.join(dir, name));
    rmSync(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** Asks the master behind each control socket in `folder` to exit (ssh -O exit); a socket nobody listens on fails at once. */
function stopOrphanMasters(folder: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(folder, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isSocket()) continue;
    execaSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${path.join(folder, entry.name)}`, '-O', 'exit', 'rearguard-orphan-master'], {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      reject: false,
      timeout: 5_000,
    });
  }
}

/** Creates the SSH side of an Exec. The control folder is made on first use. */
export function createSshExec(options: SshExecOptions): SshExec {
  const env = options.env ?? cleanEnv(process.env);
  const hosts = new Map<string, SshHost>();
  let controlDir: string | undefined;

  const hostFor = (name: string): SshHost | undefined => {
    const existing = hosts.get(name);
    if (existing) return existing;
    const host = options.hosts[name];
    if (!host) return undefined;
    controlDir ??= makeControlDir(options.stateDir);
    const created = new SshHost({
      host,
      controlPath: path.join(controlDir, `c${hosts.size}`),
      scratchDir: controlDir,
      clientEnv: env,
      baseEnv: env,
      retryBaseMs: options.retryBaseMs ?? RETRY_BASE_MS,
    });
    hosts.set(name, created);
    return created;
  };

  return {
    async runRemote(name, spec) {
      let host: SshHost | undefined;
      try {
        host = hostFor(name);
      } catch (error) {
        return refused(`cannot prepare SSH control sockets in ${options.stateDir}: ${(error as Error).message}`);
      }
      if (!host) {
        const known = Object.keys(options.hosts);
        return refused(`unknown host "${name}": expected one of hosts (${known.join(', ') || 'none defined'})`);
      }
      return host.run(spec);
    },
    async close() {
      await Promise.all([...hosts.values()].map((host) => host.master.close().catch(() => undefined)));
      hosts.clear();
      if (controlDir) rmSync(controlDir, { recursive: true, force: true });
      controlDir = undefined;
    },
  };
}

function refused(message: string): ProcessResult {
  return { exitCode: null, timedOut: false, aborted: false, durationMs: 0, output: '', leftovers: false, startError: message };
}

function cleanEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

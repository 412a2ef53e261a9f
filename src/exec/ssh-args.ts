// Builds ssh argv (pure): batch mode, strict host keys, connection reuse, `--` before the destination.
import type { ResolvedHost } from '../config/types.js';
import { findUnsafeSshOption } from './ssh-options.js';

/** How a connection to the host is used. */
export type SshRole =
  /** Open the shared connection of the run (ssh -M -N -f). */
  | { kind: 'master'; controlPath: string; persistSeconds: number }
  /** Run a command over the shared connection (falls back to a direct one when it is gone). */
  | { kind: 'client'; controlPath?: string }
  /** Ask the shared connection something: "check" or "exit". */
  | { kind: 'control'; controlPath: string; command: 'check' | 'exit' };

/** Escapes a path for ssh options that expand %-tokens, and quotes it when it holds spaces. */
export function sshPathValue(value: string): string {
  if (value.includes('"')) throw new Error(`ssh cannot use a path containing a double quote: ${value}`);
  const escaped = value.replace(/%/g, '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** Refuses destinations ssh would read as an option (the schema refuses them too). */
export function assertSafeDestination(destination: string): void {
  const [user, host] = destination.includes('@') ? destination.split('@', 2) : [undefined, destination];
  if (!host || host.startsWith('-') || user?.startsWith('-') || /[\s\0]/.test(destination)) {
    throw new Error(`refusing ssh destination "${destination}": expected [user@]host where neither starts with "-" and no spaces`);
  }
}

/**
 * The ssh argv (without the program and without the remote command) for `host` in `role`.
 * rearguard's own options come first: ssh keeps the first value it sees, so neither
 * `ssh_options` nor ~/.ssh/config can weaken them.
 */
export function buildSshArgs(host: ResolvedHost, role: SshRole): string[] {
  assertSafeDestination(host.destination);
  const args: string[] = [];
  const option = (text: string): void => void args.push('-o', text);
  option('BatchMode=yes');
  option(`ConnectTimeout=${Math.max(1, Math.ceil(host.connectTimeoutMs / 1000))}`);
  option('StrictHostKeyChecking=yes');
  option('UpdateHostKeys=no');
  option('CheckHostIP=no');
  if (host.knownHosts) option(`UserKnownHostsFile=${sshPathValue(host.knownHosts)}`);
  option('ServerAliveInterval=15');
  option('ServerAliveCountMax=3');
  option('ClearAllForwardings=yes');
  if (host.identityFile) {
    args.push('-i', sshPathValue(host.identityFile));
    option('IdentitiesOnly=yes');
  }
  if (host.port !== undefined) args.push('-p', String(host.port));
  if (role.kind === 'master') {
    option(`ControlPath=${sshPathValue(role.controlPath)}`);
    option('ControlMaster=yes');
    option(`ControlPersist=${role.persistSeconds}`);
  } else if (role.kind === 'control') {
    option(`ControlPath=${sshPathValue(role.controlPath)}`);
    args.push('-O', role.command);
  } else if (role.controlPath) {
    option(`ControlPath=${sshPathValue(role.controlPath)}`);
    option('ControlMaster=no');
  } else {
    option('ControlPath=none');
  }
  for (const [key, value] of Object.entries(host.sshOptions)) {
    const unsafe = findUnsafeSshOption(key, value);
    if (unsafe) throw new Error(`hosts.${host.name}.ssh_options.${key}: ${unsafe}`);
    option(`${key}=${value}`);
  }
  // No agent or X11 forwarding to a backup target; no terminal.
  args.push('-a', '-x', '-T');
  if (role.kind === 'master') args.push('-N', '-f');
  args.push('--', host.destination);
  return args;
}

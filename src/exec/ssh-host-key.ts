// Looks up which host key a server offers, so an unknown-key failure can name its fingerprint.
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import type { ResolvedHost } from '../config/types.js';
import { assertSafeDestination } from './ssh-args.js';

/** The "SHA256:..." fingerprint of a key blob in base64, as ssh prints it. */
export function fingerprintKey(base64Blob: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Blob, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Parses `ssh -G` output into the host name and port ssh would really connect to. */
export function parseSshG(output: string): { hostname?: string; port?: number } {
  const hostname = /^hostname (\S+)$/m.exec(output)?.[1];
  const port = /^port (\d+)$/m.exec(output)?.[1];
  return { ...(hostname && { hostname }), ...(port && { port: Number(port) }) };
}

/**
 * Asks the server for its host keys (ssh-keyscan, read-only: nothing is written to known_hosts)
 * and returns "type SHA256:..." lines; empty when the server cannot be asked.
 */
export async function scanHostKeyFingerprints(host: ResolvedHost, env: Record<string, string>): Promise<string[]> {
  assertSafeDestination(host.destination);
  const seconds = String(Math.max(1, Math.ceil(host.connectTimeoutMs / 1000)));
  const options = { reject: false, env, extendEnv: false, stdin: 'ignore', timeout: host.connectTimeoutMs + 5_000 } as const;
  const resolved = await execa(
    'ssh',
    ['-G', ...(host.port !== undefined ? ['-p', String(host.port)] : []), '--', host.destination],
    options,
  );
  const { hostname, port } = parseSshG(String(resolved.stdout ?? ''));
  if (!hostname || hostname.startsWith('-')) return [];
  const scan = await execa('ssh-keyscan', ['-T', seconds, '-p', String(port ?? host.port ?? 22), '--', hostname], options);
  const lines: string[] = [];
  for (const line of String(scan.stdout ?? '').split('\n')) {
    const [, type, blob] = line.trim().split(/\s+/);
    if (!line.startsWith('#') && type && blob) lines.push(`${type} ${fingerprintKey(blob)}`);
  }
  return [...new Set(lines)];
}

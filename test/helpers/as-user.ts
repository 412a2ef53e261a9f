// Runs a command as an unprivileged user when the tests run as root, as a user of a global install would.
import { chmod, chown } from 'node:fs/promises';

/** The unprivileged account (nobody on Debian). */
export const NOBODY = { uid: 65534, gid: 65534 };

/** True when the suite runs as root, so commands can and should drop to NOBODY. */
export const IS_ROOT = process.getuid?.() === 0;

/** Prefixes argv with setpriv so it runs as NOBODY when the suite is root; unchanged otherwise. */
export function asUnprivileged(argv: string[]): string[] {
  return IS_ROOT ? ['setpriv', `--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', ...argv] : argv;
}

/** Gives a folder to NOBODY (when root) so an unprivileged command can write there. */
export async function giveToUnprivileged(dir: string): Promise<void> {
  if (IS_ROOT) await chown(dir, NOBODY.uid, NOBODY.gid);
  await chmod(dir, 0o755);
}

/** The environment without npm's per-script variables, so a nested npm or CLI sees only what a shell would. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('npm_') && key !== 'npm_config_nodedir' && key !== 'npm_config_cache') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

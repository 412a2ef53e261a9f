// Who the private PostgreSQL runs as: PostgreSQL refuses root, so a root rearguard drops to a named account.
import { readFile } from 'node:fs/promises';

/** An account from the passwd database. */
export interface OsAccount {
  name: string;
  uid: number;
  gid: number;
}

/** Finds `name` in /etc/passwd (a read, not a process), or undefined. */
export async function findAccount(name: string, passwd = '/etc/passwd'): Promise<OsAccount | undefined> {
  const text = await readFile(passwd, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** The argv prefix that runs a program as `account` (setpriv, from util-linux), or none when no switch is needed. */
export function runAsPrefix(account: OsAccount | undefined): string[] {
  if (!account) return [];
  return ['setpriv', `--reuid=${account.uid}`, `--regid=${account.gid}`, '--clear-groups', '--'];
}

/**
 * The account the restore test runs as: `runAs` (default postgres) when rearguard is root, otherwise
 * rearguard's own user. Says what to do when the account is missing.
 */
export async function chooseServerAccount(runAs: string | undefined): Promise<{ account?: OsAccount } | { error: string }> {
  if (process.getuid?.() !== 0) {
    return runAs === undefined ? {} : { error: `run_as: ${runAs} needs rearguard to run as root; remove run_as to restore as the current user` };
  }
  const name = runAs ?? 'postgres';
  const account = await findAccount(name);
  if (!account) return { error: `user "${name}" does not exist; PostgreSQL does not run as root, so set pgbackrest.run_as to the user that owns the cluster's files` };
  if (account.uid === 0) return { error: `run_as: ${name} is root, and PostgreSQL does not run as root; name an unprivileged user` };
  return { account };
}

// The pgbackrest key of an artifact: what it accepts, what it refuses, and who a restore test runs as.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pgbackrestSource } from '../../../sources/pgbackrest.js';
import { findAccount, runAsPrefix } from '../../../sources/pgbackrest/os-user.js';

const resolvePath = (p: string): string => path.resolve('/etc/rearguard', p);

describe('pgbackrest config', () => {
  it('resolves a local config file from the config folder, and leaves a host path alone', () => {
    const { schema, resolve } = pgbackrestSource.config;
    const local = schema.parse({ stanza: 'main', config: 'pgbackrest.conf', type: 'full' });
    expect(resolve(local, { resolvePath, level: 'error' })).toEqual({ stanza: 'main', config: '/etc/rearguard/pgbackrest.conf', type: 'full' });
    const remote = schema.parse({ stanza: 'main', config: 'pgbackrest.conf', host: 'nas' });
    expect(resolve(remote, { resolvePath, level: 'error' })).toEqual({ stanza: 'main', config: 'pgbackrest.conf', host: 'nas' });
  });

  it('refuses a cipher pass written inline, an unknown type and a missing stanza', () => {
    const { schema } = pgbackrestSource.config;
    expect(schema.safeParse({ stanza: 'main', repo1_cipher_pass: 'hunter2' }).success).toBe(false);
    expect(schema.safeParse({ stanza: 'main', type: 'weekly' }).success).toBe(false);
    expect(schema.safeParse({ config: '/etc/pgbackrest.conf' }).success).toBe(false);
  });

  it('names the artifact after the stanza, its repository and its host', () => {
    expect(pgbackrestSource.name({ stanza: 'main', repo: 2, host: 'nas' })).toBe('pgbackrest stanza main repo2 on nas');
  });
});

describe('the restore test account', () => {
  it('is read from the passwd file, and switched to with setpriv', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-passwd-'));
    try {
      const passwd = path.join(dir, 'passwd');
      await writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\npostgres:x:104:110:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n');
      const account = await findAccount('postgres', passwd);
      expect(account).toEqual({ name: 'postgres', uid: 104, gid: 110 });
      expect(await findAccount('nosuch', passwd)).toBeUndefined();
      expect(runAsPrefix(account)).toEqual(['setpriv', '--reuid=104', '--regid=110', '--clear-groups', '--']);
      expect(runAsPrefix(undefined)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

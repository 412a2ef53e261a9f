// The restic source's pure parts: its config key, restic's JSON amid other output, the newest snapshot, failures in words.
import { describe, expect, it } from 'vitest';
import { chooseNewestSnapshot, explainResticFailure, extractJson, resticSource } from '../../../sources/restic.js';
import type { ProcessResult } from '../../../src/exec/types.js';

const resolvePath = (p: string): string => (p.startsWith('/') ? p : `/etc/rearguard/${p}`);
const fragmentCtx = { resolvePath, level: 'error' as const };
const failed = (output: string): ProcessResult => ({ exitCode: 1, timedOut: false, aborted: false, durationMs: 1, output, leftovers: false });

describe('restic source', () => {
  it('resolves paths from the config folder here, keeps them as written for a host, and never a URL', () => {
    const { schema, resolve } = resticSource.config;
    expect(resolve(schema.parse({ repo: 'repo', password_file: 'pw', tags: ['a'] }), fragmentCtx)).toEqual({
      repo: '/etc/rearguard/repo',
      passwordFile: '/etc/rearguard/pw',
      tags: ['a'],
      paths: [],
    });
    expect(resolve(schema.parse({ repo: 'sftp:nas:/srv/restic', password_command: 'pass show restic' }), fragmentCtx)).toMatchObject({
      repo: 'sftp:nas:/srv/restic',
      passwordCommand: 'pass show restic',
    });
    expect(resolve(schema.parse({ repo: 'srv/repo', password_file: 'pw', host: 'nas' }), fragmentCtx)).toMatchObject({ repo: 'srv/repo', passwordFile: 'pw', host: 'nas' });
  });

  it('refuses an inline password, both password sources, none, and unknown keys', () => {
    const { schema } = resticSource.config;
    expect(schema.safeParse({ repo: 'r', password: 'hunter2' }).success).toBe(false);
    expect(schema.safeParse({ repo: 'r', password_file: 'a', password_command: 'b' }).success).toBe(false);
    const none = schema.safeParse({ repo: 'r' });
    expect(none.success).toBe(false);
    expect(JSON.stringify(none.error?.issues)).toContain('exactly one of password_file or password_command');
  });

  it('finds the JSON document among warnings and picks the newest snapshot by time', () => {
    const output = [
      'warning: something restic said',
      JSON.stringify([
        { id: 'a'.repeat(64), short_id: 'aaaaaaaa', time: '2026-01-02T00:00:00Z', paths: ['/d'] },
        { id: 'b'.repeat(64), short_id: 'bbbbbbbb', time: '2026-01-03T00:00:00.5+01:00', paths: ['/d'] },
        { id: 'c'.repeat(64), time: '2026-01-01T00:00:00Z', paths: ['/d'], tags: null },
      ]),
    ].join('\n');
    expect(chooseNewestSnapshot(extractJson(output))?.short_id).toBe('bbbbbbbb');
    expect(chooseNewestSnapshot(extractJson('[]'))).toBeUndefined();
    expect(() => extractJson('Fatal: nothing')).toThrow(/no JSON/);
  });

  it('turns restic failures into what to do', () => {
    const options = { repo: '/srv/repo', passwordFile: '/etc/pw', tags: [], paths: [] };
    expect(explainResticFailure(options, failed('Fatal: wrong password or no key found\n'), 1000)).toBe(
      'restic repository /srv/repo: wrong password (restic: "wrong password or no key found"); check the password file /etc/pw',
    );
    expect(explainResticFailure({ ...options, host: 'nas' }, failed('Fatal: unable to open config file: stat /srv/repo/config: no such file or directory\nIs there a repository at the following location?\n/srv/repo\n'), 1000)).toMatch(
      /^restic repository \/srv\/repo on nas cannot be opened: .*check that the repository exists and is reachable from nas$/,
    );
    expect(explainResticFailure(options, { ...failed(''), exitCode: null, timedOut: true }, 90_000)).toBe('restic repository /srv/repo: restic timed out after 1m30s');
  });
});

// Choosing the newest pgBackRest set from `info --output=json` (documents shaped like pgBackRest 2.45's real output).
import { describe, expect, it } from 'vitest';
import { chooseNewestSet, extractInfoJson } from '../../../sources/pgbackrest/info.js';
import { judgeVerifyOutput } from '../../../sources/pgbackrest/verify.js';

const set = (label: string, type: string, stop: number, extra: Record<string, unknown> = {}) => ({
  archive: { start: '000000010000000000000002', stop: '000000010000000000000002' },
  backrest: { format: 5, version: '2.45' },
  database: { id: 1, 'repo-key': 1 },
  error: false,
  info: { delta: 23033471, repository: { delta: 4_000_000, size: 3_000_000 }, size: 20_000_000 + stop },
  label,
  prior: null,
  reference: null,
  timestamp: { start: stop - 6, stop },
  type,
  ...extra,
});
const stanza = (backup: unknown[], status = { code: 0, message: 'ok' }) => [
  { archive: [], backup, cipher: 'none', db: [], name: 'main', repo: [{ cipher: 'none', key: 1, status }], status: { ...status, lock: { backup: { held: false } } } },
];

describe('chooseNewestSet', () => {
  it('picks the set that stopped last, with the database size it restores and its stop time', () => {
    const choice = chooseNewestSet(stanza([set('20261123-011335F', 'full', 1795396421), set('20261123-011335F_20261123-011342I', 'incr', 1795396424)]), 'main');
    expect(choice).toMatchObject({ ok: true, count: 2, set: { label: '20261123-011335F_20261123-011342I', type: 'incr', stopMs: 1795396424000, databaseBytes: 20_000_000 + 1795396424 } });
  });

  it('refuses a newest set flagged in error, even when an older one is sound', () => {
    const choice = chooseNewestSet(stanza([set('A', 'full', 100), set('B', 'full', 200, { error: true })]), 'main');
    expect(choice).toEqual({ ok: false, message: expect.stringContaining('newest backup set B of stanza "main" is flagged in error') });
  });

  it('refuses a set of another type than expected', () => {
    const choice = chooseNewestSet(stanza([set('A', 'full', 100), set('A_B', 'diff', 200)]), 'main', 'full');
    expect(choice).toEqual({ ok: false, message: expect.stringContaining('is a diff backup, but type: full is expected') });
  });

  it('says what is wrong with a stanza pgBackRest reports in error, and what to do when it has no set', () => {
    expect(chooseNewestSet(stanza([], { code: 1, message: 'missing stanza path' }), 'main')).toEqual({
      ok: false,
      message: expect.stringMatching(/stanza "main" is unusable: missing stanza path \(pgbackrest status code 1\)/),
    });
    expect(chooseNewestSet(stanza([], { code: 2, message: 'no valid backups' }), 'main')).toEqual({
      ok: false,
      message: 'stanza "main" has no backup set yet: run pgbackrest backup --stanza=main',
    });
    expect(chooseNewestSet(stanza([set('A', 'full', 1)]), 'other')).toMatchObject({ ok: false, message: expect.stringContaining('does not list stanza "other"') });
  });

  it('finds the JSON line among warnings pgBackRest printed first', () => {
    const output = `WARN: option 'repo1-retention-full' is not set\n${JSON.stringify(stanza([]))}\n`;
    expect(extractInfoJson(output)).toEqual(stanza([]));
    expect(() => extractInfoJson('ERROR: [055]: unable to load info file\n')).toThrow('printed no JSON');
  });
});

describe('judgeVerifyOutput', () => {
  it('reads a sound summary as ok and a damaged one as error with the lines that say what is wrong', () => {
    expect(judgeVerifyOutput('stanza: main\nstatus: ok\n  backup: 20261123-012356F, status: valid, total files checked: 1265, total valid files: 1265\n    missing: 0, checksum invalid: 0, size invalid: 0, other: 0\n')).toEqual({ status: 'ok', problems: [] });
    const damaged = judgeVerifyOutput('stanza: main\nstatus: error\n  backup: 20261123-012356F, status: invalid, total files checked: 1265, total valid files: 1264\n    missing: 0, checksum invalid: 1, size invalid: 0, other: 0\n');
    expect(damaged.status).toBe('error');
    expect(damaged.problems).toEqual(['status: error', 'backup: 20261123-012356F, status: invalid, total files checked: 1265, total valid files: 1264', 'missing: 0, checksum invalid: 1, size invalid: 0, other: 0']);
  });

  it('does not call output without a status line sound', () => {
    expect(judgeVerifyOutput('').status).toBe('unknown');
  });
});

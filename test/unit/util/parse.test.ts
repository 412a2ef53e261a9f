import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/util/duration.js';
import { parseSize } from '../../../src/util/size.js';
import { Redactor, isSecretKey, maskEnv } from '../../../src/util/secrets.js';
import { parseEnvFile } from '../../../src/engine/unit-env.js';

describe('durations', () => {
  it.each([
    ['90s', 90_000], ['5m', 300_000], ['1h30m', 5_400_000], ['500ms', 500], ['2d', 172_800_000], ['1h0m30s', 3_630_000],
  ])('%s = %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['30 minutes', '', '5', '-5m', '1.5h'])('refuses %j', (text) => expect(() => parseDuration(text)).toThrow(/expected a duration/));
  it('formats for people', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_340)).toBe('12.3s');
    expect(formatDuration(245_000)).toBe('4m05s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });
});

describe('sizes', () => {
  it.each([
    ['500MB', 500_000_000], ['50GiB', 53_687_091_200], ['1.5GB', 1_500_000_000], ['1KiB', 1024], ['1k', 1024],
    ['290MB', 290_000_000], ['0', 0], [4096, 4096], ['10 MB', 10_000_000], ['100B', 100],
  ] as const)('%s = %d bytes, an integer', (text, bytes) => {
    const parsed = parseSize(text);
    expect(parsed).toBe(bytes);
    expect(Number.isSafeInteger(parsed)).toBe(true);
  });
  it.each(['lots', '5XB', '-1MB', '1e9'])('refuses %j', (text) => expect(() => parseSize(text)).toThrow(/expected a size/));
  it('refuses sizes beyond safe integers', () => expect(() => parseSize('9000PB')).toThrow(/too large/));
});

describe('secrets', () => {
  it('recognises secret-looking keys', () => {
    for (const key of ['PGPASSWORD', 'API_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'SSH_KEY', 'DB_CREDENTIALS', 'restic_password']) expect(isSecretKey(key)).toBe(true);
    for (const key of ['PGHOST', 'PATH', 'BACKUP_DIR']) expect(isSecretKey(key)).toBe(false);
  });
  it('masks env values and scrubs known secrets and URL credentials from text', () => {
    expect(maskEnv({ PGPASSWORD: 'hunter22', PGHOST: 'db' })).toEqual({ PGPASSWORD: '***', PGHOST: 'db' });
    const redactor = new Redactor();
    redactor.addEnv({ API_TOKEN: 's3cr3t-token', HOST: 'db.internal' });
    expect(redactor.redact('curl -H s3cr3t-token https://bob:pw@push.example/x db.internal')).toBe(
      'curl -H *** https://***@push.example/x db.internal',
    );
  });
});

describe('env files', () => {
  it('parses comments, export, quotes and inline comments', () => {
    const env = parseEnvFile(
      ['# comment', 'export A=1', 'B="two words"', "C='lit $X'", 'D=plain # note', '', 'E='].join('\n'),
      '/etc/x.env',
    );
    expect(env).toEqual({ A: '1', B: 'two words', C: 'lit $X', D: 'plain', E: '' });
  });
  it('names the file and line of a bad entry', () => {
    expect(() => parseEnvFile('A=1\nnot an entry\n', '/etc/x.env')).toThrow('/etc/x.env:2: expected KEY=VALUE');
  });
});

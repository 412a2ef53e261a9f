// Parsers of what remote hosts answer (sha256 tools, df, temp file lists) and the retry backoff (pure).
import { describe, expect, it } from 'vitest';
import { parseDfAvailable } from '../../../checks/preflight/reachable.js';
import { uploadTempName } from '../../../actions/upload.js';
import { joinRemotePath, parseInspectReport } from '../../../src/exec/remote-file.js';
import { parseTempFileList } from '../../../src/exec/remote-temp-files.js';
import { retryDelay, RETRY_MAX_MS } from '../../../src/exec/ssh-retry.js';

const HEX = 'a'.repeat(64);

describe('parseInspectReport', () => {
  it('reads each sha256 tool\'s output format', () => {
    for (const [tool, line] of [
      ['sha256sum', `${HEX}  -`],
      ['shasum -a 256', `${HEX}  -`],
      ['openssl dgst -sha256', `SHA2-256(stdin)= ${HEX}`],
      ['openssl dgst -sha256', `(stdin)= ${HEX.toUpperCase()}`],
    ]) {
      expect(parseInspectReport(`state=file\nsize=12\ntool=${tool}\nrc=0\nhash=${line}\n`, 'nas:/f')).toEqual({
        ok: true,
        facts: { state: 'file', bytes: 12, sha256: HEX, tool },
      });
    }
  });

  it('never passes an empty, garbled or failed answer', () => {
    const empty = parseInspectReport('state=file\nsize=12\ntool=sha256sum\nrc=0\nhash=\n', 'nas:/f');
    expect(empty).toMatchObject({ ok: false, message: expect.stringContaining('printed nothing') });
    const garbled = parseInspectReport(`state=file\nsize=12\ntool=sha256sum\nrc=0\nhash=${HEX.slice(1)}  -\n`, 'nas:/f');
    expect(garbled).toMatchObject({ ok: false, message: expect.stringContaining('garbled') });
    const twoLines = parseInspectReport(`state=file\nsize=12\ntool=sha256sum\nrc=0\nhash=${HEX}  -\n${HEX}  -\n`, 'nas:/f');
    expect(twoLines.ok).toBe(false);
    const failed = parseInspectReport(`state=file\nsize=12\ntool=sha256sum\nrc=1\nhash=${HEX}  -\n`, 'nas:/f');
    expect(failed.ok).toBe(false);
    expect(parseInspectReport('state=file\nsize=12\ntool=none\n', 'nas:/f')).toMatchObject({ ok: false, message: expect.stringContaining('no sha256 tool') });
    expect(parseInspectReport('', 'nas:/f').ok).toBe(false);
    expect(parseInspectReport('state=file\nsize=\n', 'nas:/f').ok).toBe(false);
  });

  it('reports missing files, and sizes without a hash when only the size was asked', () => {
    expect(parseInspectReport('state=missing\n', 'nas:/f')).toEqual({ ok: true, facts: { state: 'missing' } });
    expect(parseInspectReport('state=file\nsize=99\n', 'nas:/f')).toEqual({ ok: true, facts: { state: 'file', bytes: 99 } });
  });
});

describe('remote helpers', () => {
  it('reads available space from df -Pk, even with spaces in the mount point', () => {
    const df = 'Filesystem     1024-blocks      Used Available Capacity Mounted on\n/dev/md0   1000000  400000  600000      40% /volume1/my backups\n';
    expect(parseDfAvailable(df)).toBe(600000 * 1024);
    expect(parseDfAvailable('df: /nope: No such file or directory\n')).toBeUndefined();
  });

  it('parses NUL-separated temp file records', () => {
    expect(parseTempFileList('4 1700000000|/d/.a.tmp.1\0|/d/.b.tmp.2\0')).toEqual([
      { path: '/d/.a.tmp.1', bytes: 4, mtimeMs: 1_700_000_000_000 },
      { path: '/d/.b.tmp.2' },
    ]);
  });

  it('names temp files after the run, so that audit finds them and runs never share one', () => {
    expect(uploadTempName('db.bin', '20261121T210000Z-3fa2')).toBe('.db.bin.tmp.20261121T210000Z-3fa2');
    expect(uploadTempName('db.bin', '20261121T210000Z-3fa2')).not.toBe(uploadTempName('db.bin', '20261121T210001Z-0b1c'));
    expect(joinRemotePath('/volume1/backup/', 'x')).toBe('/volume1/backup/x');
    expect(joinRemotePath('/', 'x')).toBe('/x');
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(retryDelay(1, 1000, () => 0)).toBe(500);
    expect(retryDelay(1, 1000, () => 1)).toBe(1000);
    expect(retryDelay(3, 1000, () => 1)).toBe(4000);
    expect(retryDelay(20, 1000, () => 1)).toBe(RETRY_MAX_MS);
  });
});

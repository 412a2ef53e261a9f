// borg 1.x prints archive times without a zone; rearguard runs borg under TZ=UTC0 and reads them as UTC.
import { describe, expect, it } from 'vitest';
import { parseBorgTime } from '../../../sources/borg.js';

describe('parseBorgTime', () => {
  it('reads a time without a zone as UTC, whatever zone this process is in', () => {
    expect(parseBorgTime('2026-11-23T03:45:03.000000')).toBe(Date.UTC(2026, 10, 23, 3, 45, 3));
    expect(parseBorgTime('2026-11-23T03:45:03.123456')).toBe(Date.UTC(2026, 10, 23, 3, 45, 3, 123));
  });
  it('keeps a zone borg gives', () => {
    expect(parseBorgTime('2026-11-23T12:45:03.000000+09:00')).toBe(Date.UTC(2026, 10, 23, 3, 45, 3));
    expect(parseBorgTime('2026-11-23T03:45:03Z')).toBe(Date.UTC(2026, 10, 23, 3, 45, 3));
  });
});

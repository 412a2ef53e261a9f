// max_age on real files with set mtimes: fresh enough, too old, written in the future; which commands use it.
import { utimes } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maxAgeCheck } from '../../../checks/max-age.js';
import { makeCheckContext, makeTarget, selectFor } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const HOUR = 3_600_000;

async function ageOf(hoursAgo: number, maxAgeMs = 26 * HOUR) {
  const file = await ws.write('backup.tar.gz', 'data');
  const when = new Date(Date.now() - hoursAgo * HOUR);
  await utimes(file, when, when);
  return maxAgeCheck.run(makeCheckContext({ maxAgeMs }), await makeTarget(file));
}

describe('max_age check', () => {
  it('passes a backup younger than the limit', async () => {
    const outcome = await ageOf(2);
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toContain('(max_age 26h00m)');
  });

  it('fails a backup older than the limit, saying how old it is', async () => {
    const outcome = await ageOf(30);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/is 30h00m old \(written at .*\), older than max_age 26h00m/);
  });

  it('fails a backup written far in the future instead of trusting it forever', async () => {
    const outcome = await ageOf(-5);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('in the future');
  });

  it('tolerates a few minutes of clock skew', async () => {
    expect((await ageOf(-0.02)).status).toBe('ok');
  });

  it('applies to verify, audit and restore-test, not orchestrate (which uses fresh)', () => {
    for (const command of ['verify', 'audit', 'restore-test'] as const) {
      expect(selectFor(maxAgeCheck, { path: 'x', level: 'warning', max_age: '1h' }, command)).toEqual({ options: { maxAgeMs: HOUR }, level: 'warning' });
    }
    expect(selectFor(maxAgeCheck, { path: 'x', level: 'warning', max_age: '1h' }, 'orchestrate')).toBeUndefined();
    expect(selectFor(maxAgeCheck, { path: 'x', level: 'warning' }, 'verify')).toBeUndefined();
  });
});

// verifyArtifact: locates through the source, runs the planned steps in order, and stops as their declarations say.
import { writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedArtifact } from '../../../src/config/types.js';
import { verifyArtifact, type SharedCheckContext } from '../../../src/engine/verify-artifact.js';
import { planArtifact } from '../../../src/plan/build-plan.js';
import type { CheckResult } from '../../../src/report/types.js';
import { artifactFrom, makeCheckContext } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-verify-artifact-');
});
afterEach(async () => {
  await ws.cleanup();
});

function artifact(extra: Record<string, unknown> = {}): ResolvedArtifact {
  return artifactFrom({ path: ws.file('backup-*.bin'), size: { min: 100 }, sqlite: true, ...extra });
}

async function verify(resolved: ResolvedArtifact, signal = new AbortController().signal): Promise<{ checks: CheckResult[]; seen: string[]; path?: string }> {
  const { options: _options, ...shared } = makeCheckContext(undefined, { signal });
  const seen: string[] = [];
  const planned = planArtifact(resolved, 'verify', false, false);
  const history = { read: async () => [] };
  const result = await verifyArtifact(planned, shared as SharedCheckContext, { unit: 'u', pattern: resolved.pattern, unitTimeoutMs: 5_000, history }, (check) =>
    seen.push(`${check.id}:${check.status}`),
  );
  return { checks: result.checks, seen, ...(result.path !== undefined && { path: result.path }) };
}

describe('verifyArtifact', () => {
  it('fails exists with the source\'s own words when nothing is found, and runs nothing after it', async () => {
    const { checks, path } = await verify(artifact());
    expect(path).toBeUndefined();
    expect(checks.map((c) => `${c.id}:${c.status}`)).toEqual(['exists:failed', 'size:skipped', 'sqlite:skipped']);
    expect(checks[0]!.message).toBe(`no file matches ${ws.file('backup-*.bin')}`);
    expect(checks[1]!.message).toBe('not run: exists failed');
  });

  it('stops after exists even at level warning: there is nothing left to check', async () => {
    const { checks } = await verify(artifact({ level: 'warning' }));
    expect(checks.map((c) => `${c.id}:${c.status}`)).toEqual(['exists:warning', 'size:skipped', 'sqlite:skipped']);
  });

  it('takes the facts from what the source located, and stops at the first failure at level error', async () => {
    await writeFile(ws.file('backup-1.bin'), 'short');
    const { checks, seen, path } = await verify(artifact());
    expect(path).toBe(ws.file('backup-1.bin'));
    expect(checks[0]!.message).toBe(`${ws.file('backup-1.bin')} (5 bytes)`);
    expect(seen).toEqual(['exists:ok', 'size:failed', 'sqlite:skipped']);
  });

  it('goes on after a failure at level warning', async () => {
    await writeFile(ws.file('backup-1.bin'), 'short');
    const { seen } = await verify(artifact({ size: { min: 100, level: 'warning' } }));
    expect(seen).toEqual(['exists:ok', 'size:warning', 'sqlite:failed']);
  });

  it('runs no step once the run is aborted, and says so', async () => {
    await writeFile(ws.file('backup-1.bin'), 'x'.repeat(200));
    const abort = new AbortController();
    abort.abort('SIGTERM');
    const { checks } = await verify(artifact(), abort.signal);
    expect(checks.every((c) => c.status === 'skipped' && c.message === 'not run: the run was aborted')).toBe(true);
  });
});

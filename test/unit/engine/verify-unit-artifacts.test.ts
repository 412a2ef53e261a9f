// verifyUnitArtifacts: a unit's read-only artifacts are verified at once, yet results, live check lines and
// history records come exactly as when they are verified one after another.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../../src/config/types.js';
import { groupArtifacts, verifyUnitArtifacts } from '../../../src/engine/unit/verify-artifacts.js';
import type { SharedCheckContext } from '../../../src/engine/verify-artifact.js';
import { planArtifact } from '../../../src/plan/build-plan.js';
import type { PlannedUnit } from '../../../src/plan/types.js';
import type { ArtifactResult } from '../../../src/report/types.js';
import { historyReader } from '../../../src/state/history.js';
import { artifactFrom, makeCheckContext } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-verify-unit-');
});
afterEach(async () => {
  await ws.cleanup();
});

const sha256 = (body: Buffer | string): string => createHash('sha256').update(body).digest('hex');

/** A file with a sidecar; `lie` writes a sidecar that does not match. */
async function withSidecar(name: string, bytes: number, lie = false): Promise<string> {
  const body = Buffer.alloc(bytes, name);
  const file = await ws.write(name, body);
  await ws.write(`${name}.sha256`, `${lie ? sha256('other') : sha256(body)}  ${name}\n`);
  return file;
}

function unitOf(raws: Array<Record<string, unknown>>, command: 'verify' | 'restore-test' = 'verify'): PlannedUnit {
  return { name: 'u', timeoutMs: 30_000, artifacts: raws.map((raw) => planArtifact(artifactFrom(raw), command, false, false)) } as unknown as PlannedUnit;
}

async function run(unit: PlannedUnit, stateDir: string, artifactConcurrency: number) {
  const { options: _options, ...shared } = makeCheckContext(undefined);
  const seen: string[] = [];
  const results = await verifyUnitArtifacts(unit, {
    config: { stateDir } as ResolvedConfig,
    runId: '20261123T000000Z-test',
    shared: shared as SharedCheckContext,
    recordHistory: true,
    unitStartedAt: Date.now(),
    onCheck: (pattern, check) => seen.push(`${pattern} ${check.id}:${check.status} ${check.message}`),
    onWarning: (message) => seen.push(`warning ${message}`),
    artifactConcurrency,
  });
  const histories = await Promise.all(unit.artifacts.map(async (a) => (await historyReader(stateDir, 'u', a.pattern).read(10)).map((e) => `${e.file} ${e.bytes} ${e.sha256}`)));
  return { results: results.map(withoutDurations), seen, histories };
}

const withoutDurations = (result: ArtifactResult) => ({ ...result, checks: result.checks.map(({ duration_ms: _d, ...check }) => check) });

describe('verifyUnitArtifacts', () => {
  it('gives the same verdicts, order, check lines and history concurrently as one by one, with a failing and a missing artifact among good ones', async () => {
    const raws = [
      { path: await withSidecar('a.bin', 3 << 20), checksum: 'sidecar', size: { min: 10 } },
      { path: await withSidecar('b.bin', 1 << 20, true), checksum: 'sidecar', size: { min: 10 } },
      { path: ws.file('missing-*.bin'), checksum: 'sidecar' },
      { path: await withSidecar('c.bin', 12), checksum: 'sidecar', size: { min: 100 } },
      { path: await withSidecar('d.bin', 2 << 20), checksum: 'sidecar', size: { min: 3 << 20, level: 'warning' } },
      { path: await withSidecar('e.bin', 5), checksum: 'sidecar' },
    ];
    const unit = unitOf(raws);
    expect(groupArtifacts(unit.artifacts)).toHaveLength(1); // all read-only: verified at once
    const oneByOne = await run(unit, ws.file('state-1'), 1);
    const atOnce = await run(unit, ws.file('state-4'), 4);
    expect(atOnce).toEqual(oneByOne);

    expect(atOnce.results.map((r) => `${r.pattern.slice(ws.dir.length + 1)} ${r.status}`)).toEqual([
      'a.bin ok',
      'b.bin failed',
      'missing-*.bin failed',
      'c.bin failed',
      'd.bin warning',
      'e.bin ok',
    ]);
    // Stops at-error within each artifact, as before: c's size failure skips its checksum; b's mismatch is its last step.
    expect(atOnce.results[1]!.checks.map((c) => `${c.id}:${c.status}`)).toEqual(['exists:ok', 'size:ok', 'checksum:failed']);
    expect(atOnce.results[2]!.checks.map((c) => `${c.id}:${c.status}`)).toEqual(['exists:failed', 'checksum:skipped']);
    expect(atOnce.results[3]!.checks.map((c) => `${c.id}:${c.status}`)).toEqual(['exists:ok', 'size:failed', 'checksum:skipped']);
    expect(atOnce.results[0]!.sha256).toBe(sha256(Buffer.alloc(3 << 20, 'a.bin')));
    // Check lines arrive grouped by artifact, in the artifacts' order.
    const order = atOnce.seen.map((line) => line.slice(ws.dir.length + 1).split(' ')[0]);
    expect(order).toEqual(['a.bin', 'a.bin', 'a.bin', 'b.bin', 'b.bin', 'b.bin', 'missing-*.bin', 'missing-*.bin', 'c.bin', 'c.bin', 'c.bin', 'd.bin', 'd.bin', 'd.bin', 'e.bin', 'e.bin']);
    // Only the artifacts that passed everything enter their history.
    expect(atOnce.histories.map((h) => h.length)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it('runs an artifact with a step that is not read-only alone, between the groups before and after it', () => {
    const unit = unitOf(
      [
        { path: ws.file('a.bin'), checksum: 'sidecar' },
        { path: ws.file('b.bin'), checksum: 'sidecar' },
        { path: ws.file('db.sqlite'), sqlite: true },
        { path: ws.file('c.bin'), checksum: 'sidecar' },
        { path: ws.file('c.bin'), size: { min: 1 } },
      ],
      'restore-test',
    );
    const groups = groupArtifacts(unit.artifacts).map((group) => group.map((a) => a.pattern.slice(ws.dir.length + 1)));
    // The sqlite check uses scratch space; the same pattern twice must see the history the first one records.
    expect(groups).toEqual([['a.bin', 'b.bin'], ['db.sqlite'], ['c.bin'], ['c.bin']]);
  });
});

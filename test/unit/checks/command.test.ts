// The artifact command check with real processes: {artifact} and REARGUARD_ARTIFACT, exit codes, timeouts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planArtifact } from '../../../src/plan/build-plan.js';
import { commandCheck, substituteArtifact } from '../../../checks/command.js';
import { makeCheckContext, makeTarget, artifactFrom } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function runCommand(argv: string[], options: { timeoutMs?: number; unitTimeoutMs?: number } = {}) {
  const file = await ws.write('backups/db dump.sql', 'CREATE TABLE t (x);\n');
  const ctx = makeCheckContext({ argv, ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }) });
  return { file, outcome: await commandCheck.run(ctx, await makeTarget(file, { unitTimeoutMs: options.unitTimeoutMs ?? 30_000 })) };
}

describe('command check', () => {
  it('passes on exit 0, with {artifact} replaced by the path (spaces and all, no shell)', async () => {
    const { file, outcome } = await runCommand(['grep', '-q', 'CREATE TABLE', '{artifact}']);
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toBe(`grep -q CREATE TABLE ${file}: exit 0`);
  });

  it('gives the path in REARGUARD_ARTIFACT too', async () => {
    const { outcome } = await runCommand(['sh', '-c', 'test -s "$REARGUARD_ARTIFACT"']);
    expect(outcome.status).toBe('ok');
  });

  it('fails on a non-zero exit, keeping the end of the output', async () => {
    const { outcome } = await runCommand(['sh', '-c', 'echo "Fatal: repository contains errors"; exit 1']);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('exited with 1; exit 0 was expected');
    expect(outcome.details).toEqual(['Fatal: repository contains errors']);
  });

  it('fails a program that does not exist', async () => {
    const { outcome } = await runCommand(['rearguard-no-such-verifier', '{artifact}']);
    expect(outcome.status).toBe('failed');
  });

  it('stops at its own timeout, or else at the unit timeout', async () => {
    const own = await runCommand(['sleep', '30'], { timeoutMs: 300 });
    expect(own.outcome.message).toContain('timed out after 300ms');
    const unit = await runCommand(['sleep', '30'], { unitTimeoutMs: 400 });
    expect(unit.outcome.message).toContain('timed out after 400ms');
  });

  it('replaces every {artifact}, inside arguments too', () => {
    expect(substituteArtifact(['--file={artifact}', '{artifact}.sha256'], '/b/x')).toEqual(['--file=/b/x', '/b/x.sha256']);
  });

  it('is planned for orchestrate, verify and restore-test, never for audit, which runs only read-only checks', () => {
    const artifact = artifactFrom({ path: 'x', command: { run: ['true'], level: 'warning' } });
    expect(commandCheck.effect).toBe('runs-commands');
    expect(planArtifact(artifact, 'audit', false, true).checks.map((c) => c.id)).toEqual(['exists']);
    for (const command of ['orchestrate', 'verify', 'restore-test'] as const) {
      const planned = planArtifact(artifact, command, command === 'orchestrate', false).checks.find((c) => c.id === 'command');
      expect(planned).toMatchObject({ options: { argv: ['true'] }, level: 'warning' });
    }
  });
});

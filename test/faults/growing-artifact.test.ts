// Fault: an artifact keeps growing while it is verified (a writer still writing, its sidecar rewritten as it goes); the verdict is never "ok" with a size and a hash from two different states of the file.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { makeSqlite } from '../helpers/fixtures.js';

const GROW = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'grow-at-line.mjs');
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-grow-');
  const data = Buffer.alloc(200_000, 0x62);
  await ws.write('data.bin', data);
  await ws.write('data.bin.sha256', `${sha(data)}  data.bin\n`);
  await ws.write(
    'rearguard.yml',
    `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: db
        run: ["true"]
        artifacts:
          - path: data.bin
            max_age: 1h
            checksum: sidecar
`,
  );
});
afterEach(async () => {
  await ws.cleanup();
});

/** Runs verify with the file growing each time a line containing `at` is printed. */
async function verifyWhileGrowing(at: string, sidecar: boolean) {
  const result = await runCli(['verify', '--json', 'r.json'], {
    cwd: ws.dir,
    env: { NODE_OPTIONS: `--import ${GROW}`, REARGUARD_TEST_GROW_AT: at, REARGUARD_TEST_GROW_FILE: ws.file('data.bin'), REARGUARD_TEST_GROW_SIDECAR: sidecar ? '1' : '0' },
  });
  const report = await ws.readJson('r.json');
  const artifact = report.stages[0].units[0].artifacts[0];
  return { result, report, artifact, checks: artifact.checks as Array<{ id: string; status: string; message: string }> };
}

/** The invariant: an artifact called ok has a size and a hash of one and the same state of the file. */
async function expectNeverOkWithMixedFacts(artifact: { status: string; bytes: number; sha256?: string }): Promise<void> {
  if (artifact.status !== 'ok') return;
  const now = await readFile(ws.file('data.bin'));
  expect(artifact.bytes, 'an ok artifact reports the size of the bytes it hashed').toBe(now.length);
  expect(artifact.sha256).toBe(sha(now));
}

describe('fault: an artifact that grows while it is verified', () => {
  it('grown after it was located, its sidecar rewritten to match: not ok, the checksum says the file changed while verified', async () => {
    const { result, artifact, checks } = await verifyWhileGrowing('check exists ok', true);
    await expectNeverOkWithMixedFacts(artifact);
    expect(result.exitCode, result.stdout).toBe(2);
    expect(artifact.status).toBe('failed');
    const checksum = checks.find((c) => c.id === 'checksum')!;
    expect(checksum.status).toBe('failed');
    expect(checksum.message).toMatch(/changed while it was verified/);
    expect(checksum.message).toContain('200000 bytes');
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\)/);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });

  it('growing at every check, its sidecar left as it was: not ok, and never a hash of a later state reported as verified', async () => {
    const { result, artifact, checks } = await verifyWhileGrowing('unit s/db: check ', false);
    await expectNeverOkWithMixedFacts(artifact);
    expect(result.exitCode).toBe(2);
    expect(checks.find((c) => c.id === 'checksum')!.status).toBe('failed');
  });

  it('a SQLite copy that grows after it was located: integrity_check passes on the bytes it read, yet the artifact is not ok', async () => {
    await makeSqlite(ws.file('app.sqlite3'), { rows: 50 });
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: db
        run: ["true"]
        artifacts:
          - path: app.sqlite3
            max_age: 1h
            sqlite: true
`,
    );
    const result = await runCli(['verify', '--json', 'r.json'], {
      cwd: ws.dir,
      env: { NODE_OPTIONS: `--import ${GROW}`, REARGUARD_TEST_GROW_AT: 'check exists ok', REARGUARD_TEST_GROW_FILE: ws.file('app.sqlite3') },
    });
    expect(result.exitCode, result.stdout).toBe(2);
    const sqlite = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: { id: string }) => c.id === 'sqlite');
    expect(sqlite.status).toBe('failed');
    expect(sqlite.message).toMatch(/app\.sqlite3 changed while it was verified: it was located with \d+ bytes/);
  });

  it('a file that stopped growing before the run verifies ok with its final size and hash (the control case)', async () => {
    const { result, artifact } = await verifyWhileGrowing('a line that is never printed', true);
    expect(result.exitCode, result.stdout).toBe(0);
    await expectNeverOkWithMixedFacts(artifact);
  });
});

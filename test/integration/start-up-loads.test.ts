// What a command loads as it starts: reading a config loads each check's schema, not the code the check runs
// (archives, decompression, restores), which loads when a check first runs it. The SQLite driver runs in a worker
// thread of its own, where this probe does not look.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, ROOT, type Workspace } from '../helpers/cli.js';

const PROBE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'report-loaded.mjs');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-loads-');
});
afterEach(async () => {
  await ws.cleanup();
});

async function loadedBy(args: string[], cwd: string): Promise<{ builtins: string[]; commonjs: string[] }> {
  const out = ws.file('loaded.json');
  const result = await execa(process.execPath, ['--import', PROBE, BIN, ...args], { cwd, reject: false, env: { CI: 'true', NO_COLOR: '1', REARGUARD_TEST_LOADED: out } });
  expect(result.exitCode, result.stdout + result.stderr).toBe(0);
  return JSON.parse(await readFile(out, 'utf8')) as { builtins: string[]; commonjs: string[] };
}

describe('start-up', () => {
  it('plan of a config with archive and restore checks loads no decompression (the archive and restore code)', async () => {
    const loaded = await loadedBy(['plan', '-c', path.join(ROOT, 'examples/demo/rearguard.yml')], ws.dir);
    expect(loaded.builtins).not.toContain('zlib');
    // The probe sees what a command does load: the config's reader needs the file system.
    expect(loaded.builtins).toContain('fs');
  });

  it('verify of a plain file with a sidecar loads no decompression either', async () => {
    await ws.write('backup.bin', 'payload\n');
    await ws.write('backup.bin.sha256', 'd4e4877bac978b7952f0d544fc52ebff5411d351d129f1f056fa43f11da9af2b  backup.bin\n');
    await ws.write('rearguard.yml', 'version: 1\nstate_dir: ./state\nstages:\n  - name: s\n    units:\n      - name: u\n        run: ["true"]\n        artifacts:\n          - path: backup.bin\n            checksum: sidecar\n            archive: false\n');
    const loaded = await loadedBy(['verify', '-c', 'rearguard.yml'], ws.dir);
    expect(loaded.builtins).not.toContain('zlib');
  });

  it('loads it when a check runs it: restore-test of the demo reads its tar.gz', async () => {
    const demo = await execa(process.execPath, [BIN, 'demo', ws.file('demo')], { reject: false, env: { CI: 'true', NO_COLOR: '1' } });
    expect(demo.exitCode, demo.stdout + demo.stderr).toBe(0);
    const loaded = await loadedBy(['restore-test', '-c', 'rearguard.yml'], ws.file('demo'));
    expect(loaded.builtins).toContain('zlib');
  });
});

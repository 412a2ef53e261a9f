// What a command loads as it starts: reading a config loads each check's schema, not the code the check runs
// (archives, decompression, restores), which loads when a check first runs it; and a plain config is read without
// the `yaml` library, which loads for a config the fast reader leaves to it. The SQLite driver runs in a worker
// thread of its own, where this probe does not look.
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
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

interface Loaded {
  builtins: string[];
  commonjs: string[];
  esm: string[];
}

async function loadedBy(args: string[], cwd: string, exitCode = 0): Promise<Loaded> {
  const out = ws.file('loaded.json');
  const result = await execa(process.execPath, ['--import', PROBE, BIN, ...args], { cwd, reject: false, env: { CI: 'true', NO_COLOR: '1', REARGUARD_TEST_LOADED: out } });
  expect(result.exitCode, result.stdout + result.stderr).toBe(exitCode);
  return JSON.parse(await readFile(out, 'utf8')) as Loaded;
}

/** The bundle's chunks that hold the `yaml` library, found by a message of its own. */
function yamlLibraryChunks(): string[] {
  const dir = path.join(ROOT, 'dist', 'bundle', 'chunks');
  return readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((file) => readFileSync(file, 'utf8').includes('A block sequence may not be used as an implicit map key'));
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

  it('reads a plain config without the yaml library, and loads it for a config the schema refuses', async () => {
    const chunks = yamlLibraryChunks();
    expect(chunks.length).toBeGreaterThan(0);
    const plain = await loadedBy(['plan', '-c', path.join(ROOT, 'examples/demo/rearguard.yml')], ws.dir);
    // The probe sees the bundle's chunks that do load.
    expect(plain.esm.some((file) => file.includes(`${path.sep}bundle${path.sep}`))).toBe(true);
    expect(plain.esm.filter((file) => chunks.includes(file))).toEqual([]);
    await ws.write('refused.yml', 'version: 1\nstages:\n  - name: s\n    units:\n      - name: u\n        run: ["true"]\n        timeout: 30 minutes\n');
    const refused = await loadedBy(['plan', '-c', 'refused.yml'], ws.dir, 2);
    expect(refused.esm.filter((file) => chunks.includes(file)).length).toBeGreaterThan(0);
  });
});

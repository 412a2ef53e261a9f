// Files the benchmarks work on, built in a temp dir: incompressible data with sidecars, a sparse file, a
// tar.gz with SHA256SUMS inside, a folder of many small files, a long size history, and configs.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

export const MiB = 1024 * 1024;

/** Writes `bytes` of incompressible data and its `<file>.sha256` sidecar; returns the hex sha256. */
export async function makeRandomFile(file, bytes) {
  const block = randomBytes(16 * MiB);
  const hash = createHash('sha256');
  const handle = await open(file, 'w');
  try {
    for (let written = 0, n = 0; written < bytes; n += 1) {
      block.writeUInt32LE(n, 0); // no two blocks alike
      const chunk = block.subarray(0, Math.min(block.length, bytes - written));
      hash.update(chunk);
      await handle.write(chunk);
      written += chunk.length;
    }
  } finally {
    await handle.close();
  }
  const hex = hash.digest('hex');
  writeFileSync(`${file}.sha256`, `${hex}  ${path.basename(file)}\n`);
  return hex;
}

/** A sparse file of `bytes` zeros: reading it costs no disk and no page cache, only the hashing. */
export function makeSparseFile(file, bytes) {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

/** A tar.gz of `count` files of text-like data (base64 of random bytes, so gzip works for its keep), with SHA256SUMS. */
export function makeTarGz(dir, name, count, bytesEach) {
  const tree = path.join(dir, `${name}-tree`);
  mkdirSync(path.join(tree, 'data'), { recursive: true });
  const sums = [];
  for (let i = 0; i < count; i += 1) {
    const rel = `data/part-${String(i).padStart(2, '0')}.txt`;
    const body = Buffer.from(randomBytes(Math.ceil((bytesEach * 3) / 4)).toString('base64').slice(0, bytesEach));
    writeFileSync(path.join(tree, rel), body);
    sums.push(`${createHash('sha256').update(body).digest('hex')}  ${rel}`);
  }
  writeFileSync(path.join(tree, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  const archive = path.join(dir, `${name}.tar.gz`);
  const tar = spawnSync('sh', ['-c', 'tar -C "$1" -cf - data SHA256SUMS | gzip -6 > "$2" && sha256sum "$2" | sed "s#  .*/#  #" > "$2.sha256"', 'sh', tree, archive]);
  if (tar.status !== 0) throw new Error(`building ${archive} failed: ${tar.stderr}`);
  spawnSync('rm', ['-rf', tree]);
  return archive;
}

/** `count` one-byte files named app-NNNNNN.sql.gz with distinct mtimes in a shuffled order; returns the newest. */
export function makeManyFiles(dir, count) {
  mkdirSync(dir, { recursive: true });
  let newest;
  for (let i = 0; i < count; i += 1) {
    const file = path.join(dir, `app-${String(i).padStart(6, '0')}.sql.gz`);
    writeFileSync(file, 'x');
    const at = 1_700_000_000 + ((i * 7919) % count);
    utimesSync(file, at, at);
    if (at === 1_700_000_000 + count - 1) newest = file;
  }
  return newest;
}

/** A size history document of `count` entries, as state/history.ts writes them. */
export function makeHistory(file, count) {
  const entries = Array.from({ length: count }, (_, i) => ({
    at: new Date(Date.UTC(2020, 0, 1) + i * 3_600_000).toISOString(),
    run_id: `20200101T${String(i).padStart(6, '0')}Z-bench`,
    bytes: 290_940_000 + i * 1000,
    sha256: createHash('sha256').update(String(i)).digest('hex'),
    file: `/var/backups/app/app-${i}.sql.gz`,
  }));
  writeFileSync(file, `${JSON.stringify({ schema: 'rearguard.history/v1', unit: 'app', pattern: '/var/backups/app/*.sql.gz', entries }, null, 1)}\n`);
}

/** A config whose units do nothing but carry artifacts (for verify and restore-test, where no unit runs). */
export function artifactConfig(stateDir, artifacts) {
  const units = artifacts
    .map((a, i) => `      - name: a${i}\n        run: ["true"]\n        artifacts:\n          - path: ${JSON.stringify(a.path)}\n${a.extra ?? ''}`)
    .join('');
  return `version: 1\nstate_dir: ${JSON.stringify(stateDir)}\nstages:\n  - name: s\n    units:\n${units}`;
}

/** A config of one unit that carries all of `artifacts` (a unit's artifacts are verified together). */
export function oneUnitConfig(stateDir, artifacts) {
  const list = artifacts.map((a) => `          - path: ${JSON.stringify(a.path)}\n${a.extra ?? ''}`).join('');
  return `version: 1\nstate_dir: ${JSON.stringify(stateDir)}\nstages:\n  - name: s\n    units:\n      - name: a\n        run: ["true"]\n        artifacts:\n${list}`;
}

/** A config of `count` units running `true`, `concurrency` at once. */
export function trueUnitsConfig(stateDir, count, concurrency) {
  const units = Array.from({ length: count }, (_, i) => `      - name: u${i}\n        run: ["true"]\n        timeout: 60s\n`).join('');
  return `version: 1\nstate_dir: ${JSON.stringify(stateDir)}\nstages:\n  - name: all\n    concurrency: ${concurrency}\n    units:\n${units}`;
}

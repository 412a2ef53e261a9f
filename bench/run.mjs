#!/usr/bin/env node
// `npm run bench`: sha256 of a 1 GiB file (rearguard's sha256File vs openssl dgst -sha256) and reading a ~1 GiB
// tar.gz through the archive check, with the peak RSS of each at two file sizes to show memory does not grow.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HASH_JS = path.join(ROOT, 'dist/src/util/hash.js');
const ARCHIVE_JS = path.join(ROOT, 'dist/checks/archive.js');
const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LARGE = Number(process.env.BENCH_MIB ?? 1024) * MiB;
const SMALL = 64 * MiB;
const TARGET = 1.15;

/** Writes `bytes` of incompressible data (a random 16 MiB block repeated, then varied per block). */
async function makeFile(file, bytes) {
  const block = randomBytes(16 * MiB);
  const handle = await open(file, 'w');
  try {
    for (let written = 0, n = 0; written < bytes; n += 1) {
      block.writeUInt32LE(n, 0); // no two blocks alike, so nothing downstream can dedupe
      const len = Math.min(block.length, bytes - written);
      await handle.write(block, 0, len);
      written += len;
    }
  } finally {
    await handle.close();
  }
}

/** Runs `code` in a fresh node process; it prints JSON; returns that plus the child's peak RSS. */
function inChild(code) {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', maxBuffer: 16 * MiB });
  if (child.status !== 0) throw new Error(`benchmark child failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

function rearguardHash(file) {
  return inChild(`
    import { sha256File } from ${JSON.stringify(HASH_JS)};
    const t = process.hrtime.bigint();
    const hash = await sha256File(${JSON.stringify(file)});
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(JSON.stringify({ ms, hash, rssMiB: process.resourceUsage().maxRSS / 1024 }));
  `);
}

function opensslHash(file) {
  const t = process.hrtime.bigint();
  const child = spawnSync('openssl', ['dgst', '-sha256', '-r', file], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (child.status !== 0) throw new Error(`openssl failed: ${child.stderr || child.error}`);
  return { ms, hash: child.stdout.split(' ')[0] };
}

function archiveRead(file) {
  return inChild(`
    import { archiveCheck } from ${JSON.stringify(ARCHIVE_JS)};
    const t = process.hrtime.bigint();
    const out = await archiveCheck.run({ options: { expect: [] }, signal: new AbortController().signal }, { facts: { file: ${JSON.stringify(file)} } });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(JSON.stringify({ ms, status: out.status, message: out.message, rssMiB: process.resourceUsage().maxRSS / 1024 }));
  `);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mibps = (bytes, ms) => (bytes / MiB / (ms / 1000)).toFixed(0);

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

async function main() {
  if (!existsSync(HASH_JS)) throw new Error(`${HASH_JS} is missing: run "npm run build" first (npm run bench does it)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-bench-'));
  const rows = [['what', 'file', 'median time', 'throughput', 'peak RSS']];
  const verdicts = [];
  try {
    const small = path.join(dir, 'small.bin');
    const large = path.join(dir, 'large.bin');
    console.log(`writing ${SMALL / MiB} MiB and ${LARGE / MiB} MiB test files in ${dir} ...`);
    await makeFile(small, SMALL);
    await makeFile(large, LARGE);

    opensslHash(large); // warm the page cache so both sides read from memory
    const ours = [];
    const theirs = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      ours.push(rearguardHash(large));
      theirs.push(opensslHash(large));
    }
    if (ours[0].hash !== theirs[0].hash) throw new Error(`hash mismatch: rearguard ${ours[0].hash}, openssl ${theirs[0].hash}`);
    const smallRun = rearguardHash(small);
    const oursMs = median(ours.map((r) => r.ms));
    const theirsMs = median(theirs.map((r) => r.ms));
    rows.push(['sha256 rearguard sha256File', `${LARGE / MiB} MiB`, `${oursMs.toFixed(0)} ms`, `${mibps(LARGE, oursMs)} MiB/s`, `${median(ours.map((r) => r.rssMiB)).toFixed(0)} MiB`]);
    rows.push(['sha256 rearguard sha256File', `${SMALL / MiB} MiB`, `${smallRun.ms.toFixed(0)} ms`, `${mibps(SMALL, smallRun.ms)} MiB/s`, `${smallRun.rssMiB.toFixed(0)} MiB`]);
    rows.push(['sha256 openssl dgst -sha256', `${LARGE / MiB} MiB`, `${theirsMs.toFixed(0)} ms`, `${mibps(LARGE, theirsMs)} MiB/s`, '-']);
    const ratio = oursMs / theirsMs;
    verdicts.push(`hashing: rearguard takes ${ratio.toFixed(2)}x the time of openssl (target ≤ ${TARGET}): ${ratio <= TARGET ? 'PASS' : 'FAIL'}`);
    const rssGrowth = median(ours.map((r) => r.rssMiB)) - smallRun.rssMiB;
    verdicts.push(`hashing memory: peak RSS grows ${rssGrowth.toFixed(0)} MiB from ${SMALL / MiB} MiB to ${LARGE / MiB} MiB of input: ${rssGrowth < 32 ? 'constant (PASS)' : 'GROWS (FAIL)'}`);

    if (!existsSync(ARCHIVE_JS)) {
      verdicts.push('archive reading: skipped, checks/archive.ts is not built in this tree');
    } else {
      const smallTar = path.join(dir, 'small.tar.gz');
      const largeTar = path.join(dir, 'large.tar.gz');
      console.log('building tar.gz files (gzip -1 of incompressible data) ...');
      for (const [src, out] of [[small, smallTar], [large, largeTar]]) {
        const tar = spawnSync('sh', ['-c', 'tar -C "$1" -cf - "$2" | gzip -1 > "$3"', 'sh', dir, path.basename(src), out]);
        if (tar.status !== 0) throw new Error(`building ${out} failed: ${tar.stderr}`);
      }
      await rm(large); // keep the disk use down while reading
      const reads = [];
      for (let i = 0; i < ROUNDS; i += 1) reads.push(archiveRead(largeTar));
      const smallRead = archiveRead(smallTar);
      if (reads[0].status !== 'ok') throw new Error(`archive check failed: ${reads[0].message}`);
      const { size } = await (await import('node:fs/promises')).stat(largeTar);
      const { size: smallSize } = await (await import('node:fs/promises')).stat(smallTar);
      const readMs = median(reads.map((r) => r.ms));
      rows.push(['archive check (tar.gz to the end)', `${(size / MiB).toFixed(0)} MiB`, `${readMs.toFixed(0)} ms`, `${mibps(size, readMs)} MiB/s`, `${median(reads.map((r) => r.rssMiB)).toFixed(0)} MiB`]);
      rows.push(['archive check (tar.gz to the end)', `${(smallSize / MiB).toFixed(0)} MiB`, `${smallRead.ms.toFixed(0)} ms`, `${mibps(smallSize, smallRead.ms)} MiB/s`, `${smallRead.rssMiB.toFixed(0)} MiB`]);
      const growth = median(reads.map((r) => r.rssMiB)) - smallRead.rssMiB;
      verdicts.push(`archive memory: peak RSS grows ${growth.toFixed(0)} MiB from ${(smallSize / MiB).toFixed(0)} MiB to ${(size / MiB).toFixed(0)} MiB of tar.gz: ${growth < 32 ? 'constant (PASS)' : 'GROWS (FAIL)'}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nnode ${process.version}, ${os.cpus().length} CPU(s) ${os.cpus()[0]?.model ?? ''}, median of ${ROUNDS} rounds, page cache warm\n`);
  console.log(table(rows));
  console.log('');
  for (const line of verdicts) console.log(line);
  if (verdicts.some((line) => line.includes('FAIL'))) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`bench failed: ${error.message}`);
  process.exitCode = 2;
});

#!/usr/bin/env node
// `npm run bench`: every row of the performance table, each side by side with its yardstick in the same run,
// interleaved round by round, with the ratio and the target. Sizes are chosen so the whole run fits in about
// three minutes on a small machine; BENCH_SCALE=2 doubles the file sizes, BENCH_ROUNDS sets the rounds.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactConfig, oneUnitConfig, makeHistory, makeManyFiles, makeRandomFile, makeSparseFile, makeTarGz, MiB, trueUnitsConfig } from './lib/fixtures.mjs';
import { formatMs, markdownTable, runOnce, runSideBySide, summarize } from './lib/measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/rearguard');
const LIB = path.join(ROOT, 'bench/lib');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ONE = 1024 * MiB * SCALE;
const FOUR = 256 * MiB * SCALE;
const node = process.execPath;
const rows = [];

/** Times `ours` against `yardstick`; a failed run marks the row instead of stopping the benchmark. */
function compare(work, size, ours, yardstick, { rounds = ROUNDS, target, check = okExit } = {}) {
  try {
    const [a, b] = runSideBySide([ours.argv, yardstick.argv], rounds, (run, i) => (i === 0 ? check(run) : okExit(run)));
    const sa = summarize(a);
    const sb = summarize(b);
    const ratio = sa.ms / sb.ms;
    const verdict = target === undefined ? '' : ratio <= target ? 'met' : 'not met';
    rows.push([work, size, ours.label, formatMs(sa.ms), sa.rssMiB === undefined ? '-' : `${sa.rssMiB.toFixed(0)} MiB`, yardstick.label, formatMs(sb.ms), `${ratio.toFixed(2)}×`, target === undefined ? '-' : `≤ ${target}×`, verdict]);
  } catch (error) {
    rows.push([work, size, ours.label, 'failed', '-', yardstick.label, '-', '-', target === undefined ? '-' : `≤ ${target}×`, `error: ${error.message.split('\n')[0].slice(0, 120)}`]);
  }
}

function okExit(run) {
  if (run.code !== 0 && run.code !== 1) throw new Error(`exit ${run.code}: ${(run.stderr || run.stdout).trim().split('\n').slice(-2).join(' / ')}`);
}

const sameHashes = (expected) => (run) => {
  okExit(run);
  for (const hex of expected) if (!run.stdout.includes(hex)) throw new Error(`wrong digest: expected ${hex} in ${run.stdout.trim()}`);
};

const cli = (...args) => [node, BIN, ...args];

async function main() {
  if (!existsSync(path.join(ROOT, 'dist/src/util/hash-pool.js'))) throw new Error('dist/ is missing: run "npm run build" first (npm run bench does it)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rearguard-bench-'));
  const state = path.join(dir, 'state');
  try {
    console.log(`building test files in ${dir} ...`);
    const big = path.join(dir, 'one.bin');
    const bigHash = await makeRandomFile(big, ONE);
    const quarter = [];
    for (let i = 0; i < 4; i += 1) quarter.push({ file: path.join(dir, `four-${i}.bin`), hash: await makeRandomFile(path.join(dir, `four-${i}.bin`), FOUR) });
    const archive = makeTarGz(dir, 'restore', 16, 12 * MiB * SCALE);
    const sparse = path.join(dir, 'ten.bin');
    makeSparseFile(sparse, 10 * 1024 * MiB);
    const many = path.join(dir, 'many');
    const newest = makeManyFiles(many, 100_000);
    const history = path.join(dir, 'history.json');
    makeHistory(history, 10_000);
    const cfg = (name, text) => {
      const file = path.join(dir, `${name}.yml`);
      writeFileSync(file, text);
      return file;
    };
    const oneCfg = cfg('one', artifactConfig(state, [{ path: big, extra: '            checksum: sidecar\n' }]));
    // One unit with four artifacts: the case that verified one file after another (units of a stage already ran at once).
    const fourCfg = cfg('four', oneUnitConfig(state, quarter.map((q) => ({ path: q.file, extra: '            checksum: sidecar\n' }))));
    const restoreCfg = cfg('restore', artifactConfig(state, [{ path: archive, extra: '            checksum: sidecar\n            archive: { expect: [SHA256SUMS] }\n            restore: { sha256sums: SHA256SUMS }\n' }]));
    const unitsCfg = cfg('units', trueUnitsConfig(state, 200, 16));
    const smallCfg = cfg('small', trueUnitsConfig(state, 3, 2));
    const thousandCfg = cfg('thousand', trueUnitsConfig(state, 1000, 16));
    const openssl = (...files) => ['openssl', 'dgst', '-sha256', '-r', ...files];
    runOnce(['cat', big, ...quarter.map((q) => q.file), archive], { stdio: 'ignore' }); // page cache warm for every side
    console.log('measuring ...');

    const gib = (bytes) => (bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`);
    compare('sha256 of one file', gib(ONE), { label: 'hash pool', argv: [node, `${LIB}/hash-child.mjs`, 'pool', big] }, { label: 'openssl dgst -sha256', argv: openssl(big) }, { target: 1.15, check: sameHashes([bigHash]) });
    compare('sha256 of one file', gib(ONE), { label: 'sha256File (simple path)', argv: [node, `${LIB}/hash-child.mjs`, 'simple', big] }, { label: 'openssl dgst -sha256', argv: openssl(big) }, { check: sameHashes([bigHash]) });
    compare('`verify`, one artifact with a sidecar', gib(ONE), { label: 'rearguard verify', argv: cli('verify', '-c', oneCfg, '--quiet', '--no-color') }, { label: 'openssl dgst -sha256', argv: openssl(big) }, { target: 1.15 });
    const files = quarter.map((q) => q.file);
    const xargs = { label: 'xargs -P2 openssl dgst', argv: ['sh', '-c', 'printf "%s\\n" "$@" | xargs -P2 -n1 openssl dgst -sha256 -r', 'sh', ...files] };
    compare('sha256 of four files', `4 × ${gib(FOUR)}`, { label: 'hash pool', argv: [node, `${LIB}/hash-child.mjs`, 'pool', ...files] }, xargs, { target: 1.2, check: sameHashes(quarter.map((q) => q.hash)) });
    compare('sha256 of four files', `4 × ${gib(FOUR)}`, { label: 'sha256File (simple path)', argv: [node, `${LIB}/hash-child.mjs`, 'simple', ...files] }, xargs, { check: sameHashes(quarter.map((q) => q.hash)) });
    compare('`verify`, four artifacts', `4 × ${gib(FOUR)}`, { label: 'rearguard verify', argv: cli('verify', '-c', fourCfg, '--quiet', '--no-color') }, xargs, { target: 1.2 });

    const scratch = path.join(dir, 'scratch');
    const pipeline = `rm -rf "$2" && mkdir "$2" && cd "$(dirname "$1")" && sha256sum -c --quiet "$1.sha256" && tar -xzf "$1" -C "$2" && cd "$2" && sha256sum -c --quiet SHA256SUMS`;
    const shell = { label: 'sha256sum -c + tar -xzf + sha256sum -c', argv: ['sh', '-c', pipeline, 'sh', archive, scratch] };
    const restoreRounds = Math.max(1, ROUNDS - 1);
    compare('`restore-test` of a tar.gz (16 files, SHA256SUMS)', '16 × 12 MiB', { label: 'rearguard restore-test', argv: cli('restore-test', '-c', restoreCfg, '--quiet', '--no-color') }, shell, { target: 0.6, rounds: restoreRounds });
    compare('`restore-test` of a tar.gz (16 files, SHA256SUMS)', '16 × 12 MiB', { label: 'rearguard restore-test', argv: cli('restore-test', '-c', restoreCfg, '--quiet', '--no-color') }, { label: 'gzip -dc (the floor)', argv: ['sh', '-c', 'gzip -dc "$1" > /dev/null', 'sh', archive] }, { rounds: restoreRounds });

    const orchestrate = { label: 'rearguard orchestrate', argv: cli('orchestrate', '-c', unitsCfg, '--quiet', '--no-color') };
    compare('`orchestrate` of `true` units, concurrency 16', '200 units', orchestrate, { label: 'xargs -P16 -n1 true', argv: ['sh', '-c', 'seq 200 | xargs -P16 -n1 true'] });
    // The floor for a Node parent: the same 200 starts, each born in its own cgroup, and nothing else; `plan` of the
    // same config is the part of the run before its first start (start-up, the config).
    compare('`orchestrate` of `true` units, concurrency 16', '200 units', orchestrate, { label: 'bare Node, a cgroup each (the floor)', argv: [node, `${LIB}/spawn-floor-child.mjs`, '200', '16'] });
    // The same, after reading the config with the YAML library rearguard uses: a run cannot start a unit before it.
    compare('`orchestrate` of `true` units, concurrency 16', '200 units', orchestrate, { label: 'bare Node, the config read, a cgroup each (the floor)', argv: [node, `${LIB}/spawn-floor-child.mjs`, '200', '16', unitsCfg] });
    compare('`rearguard plan` of the same config', '200 units', { label: 'rearguard plan', argv: cli('plan', '-c', unitsCfg) }, { label: 'node -e 0', argv: [node, '-e', '0'] });
    const nodeZero = { label: 'node -e 0', argv: [node, '-e', '0'] };
    compare('`rearguard plan`, small config', '3 units', { label: 'rearguard plan', argv: cli('plan', '-c', smallCfg) }, nodeZero, { rounds: ROUNDS + 2 });
    compare('`rearguard --version`', '-', { label: 'rearguard --version', argv: cli('--version') }, nodeZero, { rounds: ROUNDS + 2 });
    compare('`rearguard plan`, 1,000 units', '1000 units', { label: 'rearguard plan', argv: cli('plan', '-c', thousandCfg) }, nodeZero);
    if (process.env.NODE_EXTRA_CA_CERTS) {
      // What the start-up rows read where NODE_EXTRA_CA_CERTS is not set (see describeExtraCaCerts).
      const unset = (argv) => ['env', '-u', 'NODE_EXTRA_CA_CERTS', ...argv];
      compare('Node\'s own start, NODE_EXTRA_CA_CERTS unset', '-', { label: 'node -e 0, unset', argv: unset([node, '-e', '0']) }, nodeZero, { rounds: ROUNDS + 2 });
      compare('`rearguard plan`, small config, NODE_EXTRA_CA_CERTS unset', '3 units', { label: 'rearguard plan', argv: unset(cli('plan', '-c', smallCfg)) }, { label: 'node -e 0, unset', argv: unset([node, '-e', '0']) }, { rounds: ROUNDS + 2 });
    }

    const pattern = path.join(many, 'app-*.sql.gz');
    const found = (run) => {
      okExit(run);
      if (run.stdout.trim() !== newest) throw new Error(`expected ${newest}, got ${run.stdout.trim()}`);
    };
    compare('newest of a glob', '100,000 files', { label: 'findNewestFile', argv: [node, `${LIB}/newest-child.mjs`, 'fast', pattern] }, { label: 'glob, then stat each (before)', argv: [node, `${LIB}/newest-child.mjs`, 'today', pattern] }, { check: found });
    compare('newest of a glob', '100,000 files', { label: 'findNewestFile', argv: [node, `${LIB}/newest-child.mjs`, 'fast', pattern] }, { label: 'find -printf | sort -n | tail -1', argv: ['sh', '-c', 'find "$1" -maxdepth 1 -name "app-*.sql.gz" -printf "%T@ %p\\n" | sort -n | tail -1', 'sh', many] }, { check: found });
    compare('sha256, memory as files grow (sparse file)', '10 GiB', { label: 'hash pool', argv: [node, `${LIB}/hash-child.mjs`, 'pool', sparse] }, { label: 'cat > /dev/null (reading alone)', argv: ['sh', '-c', 'cat "$1" > /dev/null', 'sh', sparse] }, { rounds: 1 });

    const historyReads = ['rearguard', 'json'].map((mode) => {
      const runs = Array.from({ length: ROUNDS + 2 }, () => JSON.parse(runOnce([node, `${LIB}/history-child.mjs`, mode, history]).stdout));
      if (runs[0].count !== 10_000) throw new Error(`history read ${runs[0].count} entries, expected 10000`);
      return summarize(runs);
    });
    rows.push(['size history read (in process, first read)', '10,000 entries', 'readHistory', formatMs(historyReads[0].ms), '-', 'readFileSync + JSON.parse', formatMs(historyReads[1].ms), `${(historyReads[0].ms / historyReads[1].ms).toFixed(2)}×`, '-', '']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = os.cpus();
  console.log(`\n${os.availableParallelism()} CPU(s) ${cpu[0]?.model ?? ''}, ${(os.totalmem() / 1024 / MiB).toFixed(0)} GiB RAM, node ${process.version}, ${os.type()} ${os.release()}`);
  console.log(`median of ${ROUNDS} rounds (restore-test ${Math.max(1, ROUNDS - 1)}, 10 GiB 1), page cache warm, load average before: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${describeExtraCaCerts()}\n`);
  console.log(markdownTable(['work', 'size', 'rearguard', 'time', 'peak RSS', 'yardstick', 'time', 'ratio', 'target', ''], rows));
  if (rows.some((row) => String(row[9]).startsWith('error'))) process.exitCode = 1;
}

main().catch((error) => {
  console.error(`bench failed: ${error.message}`);
  process.exitCode = 2;
});

/**
 * Node parses the certificates NODE_EXTRA_CA_CERTS names as every process starts, before any of its code runs: a
 * system bundle of ~140 certificates adds tens of milliseconds to `node -e 0`, to rearguard and to each floor alike.
 * The table's start-up rows are only comparable between machines that agree on it.
 */
function describeExtraCaCerts() {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return 'NODE_EXTRA_CA_CERTS: not set';
  let count = '?';
  try {
    count = String(readFileSync(file, 'latin1').split('-----BEGIN CERTIFICATE-----').length - 1);
  } catch {
    // Unreadable: Node warns and goes on; the line still says it is set.
  }
  return `NODE_EXTRA_CA_CERTS: ${file} (${count} certificates, parsed by every Node process as it starts)`;
}

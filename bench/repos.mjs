#!/usr/bin/env node
// Repository artifacts: what `rearguard verify` adds per artifact over the tool's own listing, how
// `restic check --read-data-subset` scales with the subset, and a restore test whose inner SHA256SUMS is checked
// against `restic restore` and `sha256sum -c` by hand. Real restic and borg repositories in a temp folder.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRandomFile, MiB } from './lib/fixtures.mjs';
import { formatMs, markdownTable, runOnce, runSideBySide, summarize } from './lib/measure.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/rearguard');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DATA = Number(process.env.BENCH_REPO_MIB ?? 128) * MiB;

function have(tool, args) {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function ok(run) {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${(run.stderr || run.stdout).trim().split('\n').slice(-2).join(' / ')}`);
}

async function main() {
  if (!have('restic', ['version']) || !have('borg', ['--version'])) {
    console.log('repository benchmarks: restic and borg are needed (apt-get install restic borgbackup); skipped');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rearguard-bench-repos-'));
  try {
    const data = path.join(dir, 'data');
    mkdirSync(data);
    for (let i = 0; i < 8; i += 1) await makeRandomFile(path.join(data, `part-${i}.bin`), DATA / 8);
    // The list a backup job writes beside its files, for the restore rule to check after a restore.
    execFileSync('sh', ['-c', 'sha256sum part-*.bin > SHA256SUMS'], { cwd: data });
    const pass = path.join(dir, 'pass');
    writeFileSync(pass, 'bench-password\n');
    chmodSync(pass, 0o600);
    const env = { ...process.env, RESTIC_PASSWORD_FILE: pass, BORG_PASSCOMMAND: `cat ${pass}`, BORG_BASE_DIR: path.join(dir, 'borg-base') };
    const restic = path.join(dir, 'restic');
    const borg = path.join(dir, 'borg');
    console.log(`making a restic and a borg repository of ${DATA / MiB} MiB in ${dir} ...`);
    execFileSync('restic', ['-r', restic, 'init', '-q'], { env, stdio: 'ignore' });
    execFileSync('restic', ['-r', restic, 'backup', '-q', '--tag', 'bench', data], { env, stdio: 'ignore' });
    execFileSync('borg', ['init', '-e', 'repokey', borg], { env, stdio: 'ignore' });
    execFileSync('borg', ['create', `${borg}::bench-1`, data], { env, stdio: 'ignore' });
    const config = path.join(dir, 'rearguard.yml');
    writeFileSync(
      config,
      [
        'version: 1',
        `state_dir: ${path.join(dir, 'state')}`,
        'stages:',
        '  - name: repos',
        '    units:',
        '      - name: restic',
        '        run: ["true"]',
        '        artifacts:',
        `          - restic: { repo: ${restic}, password_file: ${pass}, tags: [bench] }`,
        '      - name: borg',
        '        run: ["true"]',
        '        artifacts:',
        `          - borg: { repo: ${borg}, passphrase_file: ${pass} }`,
        '      - name: restic-restore',
        '        run: ["true"]',
        '        artifacts:',
        `          - restic: { repo: ${restic}, password_file: ${pass}, tags: [bench] }`,
        `            restore: { sha256sums: ${JSON.stringify(`${data.slice(1)}/SHA256SUMS`)} }`,
        '',
      ].join('\n'),
    );
    const verify = (unit) => ['node', BIN, 'verify', '-c', config, '--only', unit, '--quiet'];
    const restoreTest = ['node', BIN, 'restore-test', '-c', config, '--only', 'restic-restore', '--quiet'];
    const rows = [];
    const pairs = [
      ['restic snapshot', verify('restic'), ['env', `RESTIC_PASSWORD_FILE=${pass}`, 'restic', '-r', restic, '--no-cache', 'snapshots', '--json'], 'restic snapshots --json'],
      ['borg archive', verify('borg'), ['env', `BORG_PASSCOMMAND=cat ${pass}`, `BORG_BASE_DIR=${env.BORG_BASE_DIR}`, 'borg', 'list', '--json', borg], 'borg list --json'],
    ];
    const version = summarize(runSideBySide([['node', BIN, '--version']], ROUNDS)[0]);
    for (const [what, ours, theirs, label] of pairs) {
      const [a, b] = runSideBySide([ours, theirs], ROUNDS, (run) => ok(run)).map(summarize);
      rows.push([what, formatMs(a.ms), label, formatMs(b.ms), formatMs(a.ms - b.ms), formatMs(a.ms - b.ms - version.ms)]);
    }
    console.log(`\nverify of one repository artifact (no check:) against the tool's own listing; ${ROUNDS} rounds, medians; rearguard --version alone: ${formatMs(version.ms)}\n`);
    console.log(markdownTable(['artifact', 'rearguard verify', 'yardstick', 'yardstick time', 'added', 'added beyond start-up'], rows));

    const scaling = [];
    for (const subset of ['1%', '10%', '100%']) {
      const runs = [];
      for (let i = 0; i < ROUNDS; i += 1) {
        const run = runOnce(['restic', '-r', restic, '--no-cache', 'check', `--read-data-subset=${subset}`], { env });
        ok(run);
        runs.push(run);
      }
      scaling.push([subset, formatMs(summarize(runs).ms)]);
    }
    console.log(`\nrestic check --read-data-subset on a ${DATA / MiB} MiB repository (what check: { read_data } runs)\n`);
    console.log(markdownTable(['subset', 'time'], scaling));

    // By hand, what the restore test proves: find the snapshot, restore it into a fresh folder, check the list there,
    // remove the folder. The floor runs the three restic commands rearguard runs (its listing, the restore size it
    // checks the scratch room and the size history with, the restore of what it found) and nothing else.
    const byHand = (size, check) => [
      'env',
      `RESTIC_PASSWORD_FILE=${pass}`,
      'sh',
      '-c',
      `set -e; restic -r "$2" snapshots --json --tag bench >/dev/null; ${size ? 'restic -r "$2" stats latest --tag bench --json --mode restore-size >/dev/null; ' : ''}d=$(mktemp -d "$1/by-hand.XXXXXX"); restic -r "$2" -q restore latest --tag bench --target "$d"; ${check}; rm -rf "$d"`,
      'sh',
      dir,
      restic,
    ];
    const listed = `cd "$d${data}" && sha256sum -c --quiet SHA256SUMS`;
    const [ours, withList, restoreOnly] = runSideBySide([restoreTest, byHand(false, listed), byHand(true, 'true')], ROUNDS, (run) => ok(run)).map(summarize);
    console.log(`\nrestore-test of the restic snapshot (${DATA / MiB} MiB in 8 files) with restore: { sha256sums }, against the same by hand; ${ROUNDS} rounds, medians\n`);
    console.log(
      markdownTable(
        ['rearguard restore-test', 'restic snapshots + restore + sha256sum -c', 'ratio', "rearguard's three restic commands alone (the floor)", 'ratio'],
        [[formatMs(ours.ms), formatMs(withList.ms), `${(ours.ms / withList.ms).toFixed(2)}×`, formatMs(restoreOnly.ms), `${(ours.ms / restoreOnly.ms).toFixed(2)}×`]],
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// End to end through the built CLI: size history across runs, `history`, corrupt history, and the read-only `audit`.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { historyFile } from '../../src/state/history.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

// The backup unit: writes out/backup-<n>.bin of the size in size.txt, with a sha256 sidecar, and notes each run.
const MAKE_BACKUP = `
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const size = Number(readFileSync('size.txt', 'utf8'));
if (size < 0) process.exit(1);
mkdirSync('out', { recursive: true });
const name = 'backup-' + Date.now() + '-' + process.pid + '.bin';
const data = Buffer.alloc(size, 'x');
writeFileSync('out/' + name, data);
writeFileSync('out/' + name + '.sha256', createHash('sha256').update(data).digest('hex') + '  ' + name + '\\n');
appendFileSync('ran.log', 'ran\\n');
`;

function config(extraUnits = ''): string {
  return `version: 1
state_dir: ./state
defaults: { timeout: 1m, kill_grace: 2s }
stages:
  - name: main
    units:
      - name: db
        run: [node, make-backup.mjs]
        artifacts:
          - path: out/backup-*.bin
            max_age: 1h
            checksum: sidecar
            size: { min: 100B, max_shrink: 50%, max_growth: 300%, window: 3 }
${extraUnits}`;
}

const SHELL_UNIT = `      - name: files
        shell: "echo files >> ran.log"
`;

let ws: Workspace;
async function backup(size: number, args: string[] = []): Promise<Awaited<ReturnType<typeof runCli>>> {
  await ws.write('size.txt', String(size));
  return runCli(['orchestrate', '-c', 'rearguard.yml', '--json', 'report.json', ...args], { cwd: ws.dir });
}
const dbHistory = (): string => historyFile(ws.file('state'), 'db', ws.file('out/backup-*.bin'));
async function historyBytes(): Promise<number[]> {
  const doc = JSON.parse(await readFile(dbHistory(), 'utf8')) as { entries: Array<{ bytes: number }> };
  return doc.entries.map((e) => e.bytes);
}

beforeEach(async () => {
  ws = await makeWorkspace('rearguard-history-audit-');
  await ws.write('make-backup.mjs', MAKE_BACKUP);
  await ws.write('rearguard.yml', config());
});
afterEach(async () => {
  await ws.cleanup();
});

describe('size history across runs', () => {
  it('passes the first run with a note, fails a shrunk dump without recording it, and shows the baseline', async () => {
    const first = await backup(1000);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toContain('no size history yet');
    expect((await backup(1000)).exitCode).toBe(0);
    expect((await backup(1100)).exitCode).toBe(0);
    expect(await historyBytes()).toEqual([1000, 1000, 1100]);

    const shrunk = await backup(300);
    expect(shrunk.exitCode).toBe(2);
    const report = await ws.readJson('report.json');
    const size = report.stages[0].units[0].artifacts[0].checks.find((c: { id: string }) => c.id === 'size');
    expect(size.status).toBe('failed');
    expect(size.message).toContain('shrank 70% against the median 1000 B of the last 3 verified size(s)');
    // A failed run never enters or truncates the history.
    expect(await historyBytes()).toEqual([1000, 1000, 1100]);
    // Each run keeps its own report under state_dir/runs.
    const runs = await readdir(ws.file('state/runs'));
    expect(runs).toHaveLength(4);
    const kept = JSON.parse(await readFile(ws.file(`state/runs/${report.run_id}/report.json`), 'utf8'));
    expect(kept.verdict).toBe('critical');

    const shown = await runCli(['history', 'db', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/1\.07 KiB \(1100 bytes\)\s+backup-\d+-\d+\.bin/);
    expect(shown.stdout).toContain('baseline: median 1000 B of the last 3 (window 3); next size allowed between 500 B and 3.91 KiB (4000 bytes) (max_shrink 50%, max_growth 300%)');
    const json = await runCli(['history', '--json', '-c', 'rearguard.yml'], { cwd: ws.dir });
    const view = JSON.parse(json.stdout);
    expect(view.artifacts[0].entries.map((e: { bytes: number }) => e.bytes)).toEqual([1000, 1000, 1100]);
    expect(view.artifacts[0].baseline).toMatchObject({ median: 1000, lowest: 500, highest: 4000 });

    const unknown = await runCli(['history', 'nope', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('units with artifacts are: db');
  });

  it('keeps a corrupt history file aside, warns, and starts the baseline again', async () => {
    expect((await backup(1000)).exitCode).toBe(0);
    await writeFile(dbHistory(), '{"schema": "rearguard.history/v1", "entries": [{"at": ');
    const shown = await runCli(['history', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(shown.exitCode).toBe(1);
    expect(shown.stderr).toContain('is corrupt');

    const run = await backup(1000);
    expect(run.exitCode, run.stdout).toBe(1);
    expect(run.verdictLine).toMatch(/partial.*size history was corrupt and is kept aside as .*\.corrupt-\d{8}T\d{6}Z/);
    const names = await readdir(ws.file('state/history'));
    const aside = names.find((n) => n.includes('.corrupt-'));
    expect(aside).toBeDefined();
    expect(await readFile(ws.file(`state/history/${aside}`), 'utf8')).toContain('"entries": [{"at": ');
    expect(await historyBytes()).toEqual([1000]);
  });

  it('judges ~290 MB artifacts with exact integers, whatever notation the history holds', async () => {
    await ws.write('out/backup-1.bin', '');
    await truncate(ws.file('out/backup-1.bin'), 100_000_000);
    const entries = ['2.9094e+08', 290_940_000, 290_940_100].map((bytes, i) => ({ at: `2026-01-0${i + 1}T00:00:00Z`, run_id: `r${i}`, bytes, file: `/old/${i}` }));
    await ws.write(path.relative(ws.dir, dbHistory()), JSON.stringify({ schema: 'rearguard.history/v1', unit: 'db', pattern: ws.file('out/backup-*.bin'), entries }));
    await ws.write('rearguard.yml', config().replace('            checksum: sidecar\n', ''));
    const small = await runCli(['verify', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(small.exitCode).toBe(2);
    expect(small.stdout).toContain('shrank 65% against the median 277.5 MiB (290940000 bytes) of the last 3');
    expect(small.stdout).not.toMatch(/\de\+\d/);
    await truncate(ws.file('out/backup-1.bin'), 290_000_000);
    const ok = await runCli(['verify', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(ok.exitCode, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('-0% against the median 277.5 MiB (290940000 bytes)');
  });
});

describe('pre-flight disk min_free as a multiple of history', () => {
  it('passes with a note before any history, then compares free space with N x the largest recent run', async () => {
    const withDisk = (multiple: string): string => config().replace('stages:', `preflight:\n  - disk: .\n    min_free: ${multiple}\nstages:`);
    await ws.write('rearguard.yml', withDisk('2x'));
    const first = await backup(1000);
    expect(first.exitCode, first.stdout).toBe(0);
    expect(first.stdout).toMatch(/preflight disk skipped: .* free; no backup history yet to compare 2x against/);
    const second = await backup(1000);
    expect(second.stdout).toMatch(/preflight disk ok: .* free \(need 1\.95 KiB, 2x the largest recent backup total 1000 B\)/);
    // 1000 bytes x 10^12 is far more than any test disk holds: pre-flight stops the run before the unit starts.
    await ws.write('rearguard.yml', withDisk('1000000000000x'));
    const ranBefore = await readFile(ws.file('ran.log'), 'utf8');
    const blocked = await backup(1000);
    expect(blocked.exitCode).toBe(2);
    expect(blocked.verdictLine).toMatch(/pre-flight failed: .* free, need at least 909\.5 TiB \(1000000000000x the largest recent backup total 1000 B\)/);
    expect(await readFile(ws.file('ran.log'), 'utf8')).toBe(ranBefore);
  });
});

/** Every file under `dir` with its size, mtime and content hash. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const info = await stat(full);
    const content = entry.isFile() ? createHash('sha256').update(await readFile(full)).digest('hex') : 'dir';
    out[path.relative(dir, full)] = `${info.size} ${info.mtimeMs} ${content}`;
  }
  return out;
}

describe('rearguard audit', () => {
  it('reports findings, runs nothing and writes nothing but the reports asked for', async () => {
    await ws.write('rearguard.yml', config(SHELL_UNIT));
    expect((await backup(1000)).exitCode).toBe(0);
    const reports = await makeWorkspace('rearguard-audit-out-');
    try {
      const before = await snapshot(ws.dir);
      const audit = await runCli(['audit', '-c', 'rearguard.yml', '--json', reports.file('a.json'), '--junit', reports.file('a.xml')], { cwd: ws.dir });
      expect(await snapshot(ws.dir)).toEqual(before);
      expect(audit.exitCode, audit.stdout).toBe(1);
      expect(audit.verdictLine).toMatch(/^verdict: partial \(exit 1\): audit warnings: .*risky-config/);
      const report = await reports.readJson('a.json');
      expect(report).toMatchObject({ schema: 'rearguard.report/v1', command: 'audit', verdict: 'partial', exit_code: 1 });
      const byId = (id: string): Array<{ status: string; message: string }> => report.preflight.filter((f: { id: string }) => f.id === id);
      expect(byId('last-runs')[0]).toMatchObject({ status: 'ok' });
      expect(byId('last-runs')[0]!.message).toContain('was ok');
      expect(byId('risky-config').some((f) => f.message.includes('/bin/sh -c'))).toBe(true);
      expect(byId('no-checks').some((f) => f.message.includes('unit files has no artifacts'))).toBe(true);
      expect(byId('no-restore')).toHaveLength(1);
      expect(byId('headroom').length).toBeGreaterThan(0);
      expect(byId('state-size')[0]!.message).toMatch(/holds \S+ \S+; 1 run folder\(s\) take \S+ \S+ \(kept: the newest 50, none older than 90 days/);
      const db = report.stages[0].units.find((u: { name: string }) => u.name === 'db');
      expect(db.status).toBe('ok');
      expect(db.artifacts[0].checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual(['exists:ok', 'max_age:ok', 'size:ok']);
      expect(await readFile(reports.file('a.xml'), 'utf8')).toContain('<testsuite name="pre-flight"');
    } finally {
      await reports.cleanup();
    }
  });

  it('is critical when the newest backup is older than max_age or the last run was critical', async () => {
    expect((await backup(1000)).exitCode).toBe(0);
    const [file] = (await readdir(ws.file('out'))).filter((n) => n.endsWith('.bin'));
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(ws.file(`out/${file}`), old, old);
    const stale = await runCli(['audit', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(stale.exitCode).toBe(2);
    expect(stale.stdout).toMatch(/check max_age failed: \S+ is 2h\d*m?\d*s? old \(written at .*\), older than max_age 1h/);

    expect((await backup(-1)).exitCode).toBe(2);
    const afterFailure = await runCli(['audit', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(afterFailure.exitCode).toBe(2);
    expect(afterFailure.verdictLine).toMatch(/critical \(exit 2\): audit found 1 error\(s\) \(1 last-runs\): last-runs: last run \S+ \(orchestrate, .*\) was critical/);
  });

  it('gives the same answer as verify for a backup dated in the future: one max_age rule', async () => {
    expect((await backup(1000)).exitCode).toBe(0);
    const [file] = (await readdir(ws.file('out'))).filter((n) => n.endsWith('.bin'));
    const future = new Date(Date.now() + 2 * 24 * 3600_000);
    await utimes(ws.file(`out/${file}`), future, future);
    const reports = await makeWorkspace('rearguard-future-');
    try {
      const verify = await runCli(['verify', '-c', 'rearguard.yml', '--json', reports.file('verify.json')], { cwd: ws.dir });
      const audit = await runCli(['audit', '-c', 'rearguard.yml', '--json', reports.file('audit.json')], { cwd: ws.dir });
      const maxAge = async (name: string): Promise<{ status: string; message: string }> => {
        const report = await reports.readJson(name);
        const db = report.stages[0].units.find((u: { name: string }) => u.name === 'db');
        return db.artifacts[0].checks.find((c: { id: string }) => c.id === 'max_age');
      };
      const fromVerify = await maxAge('verify.json');
      const fromAudit = await maxAge('audit.json');
      expect(fromVerify.status).toBe('failed');
      expect(fromVerify.message).toMatch(/written at .*, 4[78]h\S* in the future: its age cannot be judged; fix the clock of the host that wrote it/);
      // The same rule and words; only the measured distance into the future may differ by the seconds between the runs.
      const rule = (c: { status: string; message: string }): string => `${c.status}: ${c.message.replace(/, \S+ in the future/, ', <distance> in the future')}`;
      expect(rule(fromAudit)).toBe(rule(fromVerify));
      expect(verify.exitCode).toBe(2);
      expect(audit.exitCode).toBe(2);
    } finally {
      await reports.cleanup();
    }
  });
});

// Fault: state_dir is read-only (a remount after a disk error, a read-only bind mount), from the start or from a point mid-run; the run still answers, never with exit 0, and says what it could not write.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { mountTmpfs, requireTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

const READONLY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'readonly-at-line.mjs');
const tmpfsOk = await requireTmpfs();

let ws: Workspace;
let state: Tmpfs | undefined;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-rostate-');
  state = undefined;
});
afterEach(async () => {
  await state?.unmount();
  await ws.cleanup();
});

const config = `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: dump
        run: [sh, -c, 'mkdir -p out && date >> out/db.bin']
        artifacts:
          - path: out/db.bin
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`;

const remount = (mode: 'ro' | 'rw'): Promise<unknown> => execa('mount', ['-o', `remount,${mode}`, state!.dir]);
const metricsStatus = async (): Promise<string | undefined> =>
  /^rearguard_run_status\{command="orchestrate"\} (\d)$/m.exec(await readFile(ws.file('prom/rearguard.prom'), 'utf8'))?.[1];

describe.runIf(tmpfsOk)('fault: a read-only state_dir', () => {
  it('read-only from the start: exit 2 naming the lock and EROFS, nothing started, the report and metrics outside state_dir say so', async () => {
    state = await mountTmpfs('256k', { dir: ws.file('state') });
    await ws.write('rearguard.yml', config);
    await remount('ro');
    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\): .*EROFS: read-only file system, open '\S+\/state\/rearguard\.lock'/);
    expect(existsSync(ws.file('out/db.bin')), 'the unit must not run without the lock').toBe(false);
    const report = await ws.readJson('report.json');
    expect(report).toMatchObject({ verdict: 'critical', exit_code: 2 });
    expect(report.reason).toMatch(/EROFS.*rearguard\.lock/);
    expect(await metricsStatus()).toBe('2');
  });

  it('read-only from a point mid-run: exit 1 naming the size history and EROFS, the unit still reported ok, the lock recovered by the next run once writable', async () => {
    state = await mountTmpfs('256k', { dir: ws.file('state') });
    await ws.write('rearguard.yml', config);
    const first = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    const [historyName] = await readdir(ws.file('state/history'));
    const historyBefore = await readFile(ws.file(`state/history/${historyName}`), 'utf8');

    const result = await runCli(['orchestrate'], {
      cwd: ws.dir,
      env: { NODE_OPTIONS: `--import ${READONLY}`, REARGUARD_TEST_READONLY_AT: 'check exists ok', REARGUARD_TEST_READONLY_DIR: state.dir },
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.verdictLine).toMatch(/^verdict: partial \(exit 1\): could not record \S+ \(\d+ bytes\) in the size history \S+: EROFS: read-only file system/);
    const report = await ws.readJson('report.json');
    expect(report).toMatchObject({ verdict: 'partial', exit_code: 1 });
    expect(report.stages[0].units.map((u: { name: string; status: string }) => [u.name, u.status])).toEqual([['dump', 'ok']]);
    expect(await metricsStatus()).toBe('1');
    expect(result.stderr).toMatch(/could not keep the report in state_dir\/runs\/\S+: EROFS/);
    expect(await readFile(ws.file(`state/history/${historyName}`), 'utf8')).toBe(historyBefore);

    // A lock that could not be removed names a dead process: the next run takes it over.
    await remount('rw');
    const next = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
    expect(await readFile(ws.file(`state/history/${historyName}`), 'utf8')).not.toBe(historyBefore);
  });
});

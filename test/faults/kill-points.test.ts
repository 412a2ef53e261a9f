// Fault: rearguard is killed with SIGKILL in the middle of an atomic write (half of the temp file written, or the temp file complete but not renamed) of the size history, the JSON report, the metrics textfile or its run record, or as it appends the line that records a program it starts (the line half written, or whole).
// The previous copy stays whole and in place, the lock is recoverable, and the next normal run answers correctly.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stopLeftovers } from '../../src/state/live-processes.js';
import { makeWorkspace, runCli, startCli, type Workspace } from '../helpers/cli.js';

const INJECT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inject-kill.mjs');
const SECRET = 's3cr3t-kill-point-7d1f';
/** The temp name write-file-atomic gives `<file>` while it is written: `<file>.<uint32>`. */
const TEMP_RE = /\.\d+$/;

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-killpoint-');
  await ws.write(
    'unit.cjs',
    `const fs = require('fs');
// A new size each run, so each run's backup is told apart from a re-check of the last one.
const n = fs.existsSync('n') ? Number(fs.readFileSync('n', 'utf8')) + 1 : 0;
fs.writeFileSync('n', String(n));
const data = 'x'.repeat(4096 + 16 * n);
fs.mkdirSync('out', { recursive: true });
fs.writeFileSync('out/db.bin', data);
fs.writeFileSync('out/db.bin.sha256', require('crypto').createHash('sha256').update(data).digest('hex') + '  db.bin\\n');
`,
  );
  await ws.write(
    'rearguard.yml',
    `version: 1
state_dir: ./state
stages:
  - name: app
    units:
      - name: dump
        run: [node, unit.cjs]
        env: { DB_PASSWORD: ${SECRET} }
        timeout: 30s
        artifacts:
          - path: out/db.bin
            size: { min: 1KiB, max_shrink: 50% }
            checksum: sidecar
      - name: files
        run: ['true']
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`,
  );
});
afterEach(async () => {
  // What a failed assertion left running in a killed run's cgroups or process groups.
  for (const run of await readdir(ws.file('state/runs')).catch(() => [])) await stopLeftovers(ws.file(`state/runs/${run}`), 0);
  await ws.cleanup();
});

/** The one history file of the workspace (one artifact). */
async function historyPath(): Promise<string> {
  const names = (await readdir(ws.file('state/history'))).filter((name) => name.endsWith('.json'));
  expect(names).toHaveLength(1);
  return ws.file(`state/history/${names[0]}`);
}

/** The run folders, oldest first. */
async function runFolders(): Promise<string[]> {
  return (await readdir(ws.file('state/runs'))).filter((name) => /^\d{8}T\d{6}Z-[0-9a-f]{4}$/.test(name)).sort();
}

/** Every file under `dir` (relative paths). */
function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`],
  );
}

/** Processes of this user whose working folder or command line is inside `dir`. */
/** Waits up to 5 s for every process of the folder to end (a process killed or told to exit takes a moment). */
async function waitUntilGone(dir: string): Promise<void> {
  for (let waited = 0; waited < 5_000 && processesIn(dir).length > 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
}

function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) || cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

const points = [
  { target: 'history', write: 'the size history', at: 'write', pattern: 'state/history/[^/]+\\.json', historyBefore: 1 },
  { target: 'history', write: 'the size history', at: 'rename', pattern: 'state/history/[^/]+\\.json', historyBefore: 1 },
  { target: 'report', write: 'the JSON report', at: 'write', pattern: 'report\\.json', historyBefore: 2 },
  { target: 'report', write: 'the JSON report', at: 'rename', pattern: 'report\\.json', historyBefore: 2 },
  { target: 'metrics', write: 'the metrics textfile', at: 'rename', pattern: 'prom/rearguard\\.prom', historyBefore: 2 },
  { target: 'record', write: "the run's own record", at: 'write', pattern: 'state/runs/[^/]+/report\\.json', historyBefore: 2 },
] as const;

describe('fault: kill -9 of rearguard during an atomic write', () => {
  for (const point of points) {
    const stage = point.at === 'write' ? 'half of the temp file written' : 'the temp file complete, before the rename';
    it(`${point.write}, ${stage}: the previous copy stays whole, and the next run recovers the lock and answers correctly`, async () => {
      const first = await runCli(['orchestrate'], { cwd: ws.dir });
      expect(first.exitCode, first.stdout + first.stderr).toBe(0);
      const history = await historyPath();
      const [firstRun] = await runFolders();
      const kept = {
        history: await readFile(history, 'utf8'),
        report: await readFile(ws.file('report.json'), 'utf8'),
        metrics: await readFile(ws.file('prom/rearguard.prom'), 'utf8'),
        record: await readFile(ws.file(`state/runs/${firstRun}/report.json`), 'utf8'),
      };

      // A report rotated away by logrotate before the killed run: its name looks like a temp file's, its age does not.
      const rotated = await ws.write('report.json.1', '{"rotated": true}\n');
      await utimes(rotated, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

      // The fixed point: the preload kills rearguard inside the write of the file that matches.
      const killed = await startCli(['orchestrate'], {
        cwd: ws.dir,
        env: { NODE_OPTIONS: `--import ${INJECT}`, REARGUARD_TEST_KILL_AT: point.at, REARGUARD_TEST_KILL_PATH: `^${ws.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${point.pattern}` },
      });
      expect(killed.signal, String(killed.stdout) + String(killed.stderr)).toBe('SIGKILL');
      // Run ids sort by the second they started in, so two runs of one second are told apart by name, not order.
      const killedRun = (await runFolders()).find((run) => run !== firstRun);
      expect(killedRun).toBeDefined();
      // The temp file is where the kill left it: nothing renamed a torn or unfinished file into place.
      const finalFile = { history, report: ws.file('report.json'), metrics: ws.file('prom/rearguard.prom'), record: ws.file(`state/runs/${killedRun}/report.json`) }[point.target];
      const temps = readdirSync(path.dirname(finalFile)).filter((name) => name.startsWith(`${path.basename(finalFile)}.`) && TEMP_RE.test(name) && name !== 'report.json.1');
      expect(temps, 'the temp file the kill interrupted').toHaveLength(1);
      if (point.at === 'write') expect(() => JSON.parse(readFileSync(path.join(path.dirname(finalFile), temps[0]!), 'utf8'))).toThrow();
      // The last good copies are whole and unchanged, the interrupted one absent.
      if (point.target === 'history') expect(await readFile(history, 'utf8')).toBe(kept.history);
      if (point.target === 'report') expect(await readFile(ws.file('report.json'), 'utf8')).toBe(kept.report);
      if (point.target === 'metrics') expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toBe(kept.metrics);
      if (point.target === 'record') expect(existsSync(finalFile)).toBe(false);
      expect(await readFile(ws.file(`state/runs/${firstRun}/report.json`), 'utf8')).toBe(kept.record);
      expect(JSON.parse(await readFile(history, 'utf8')).entries).toHaveLength(point.historyBefore);
      // The lock is left, for the next run to recover; nothing of the killed run still runs. The run's launcher
      // exits as soon as it reads that rearguard is gone (the end of its request pipe): it is given that moment.
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(true);
      await waitUntilGone(ws.dir);
      expect(processesIn(ws.dir)).toEqual([]);

      const next = await runCli(['orchestrate'], { cwd: ws.dir });
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      expect(next.stderr).toMatch(/recovered a stale lock/);
      expect(next.stderr).toContain(`removed 1 temp file(s) the killed run left mid-write, never renamed into place: ${path.dirname(finalFile)}/${temps[0]}`);
      const report = await ws.readJson('report.json');
      expect(report).toMatchObject({ verdict: 'ok', exit_code: 0 });
      expect(report.stages[0].units.map((u: { name: string; status: string }) => [u.name, u.status])).toEqual([
        ['dump', 'ok'],
        ['files', 'ok'],
      ]);
      for (const unit of report.stages[0].units) expect(unit.message).not.toBe('');
      const checks = Object.fromEntries(report.stages[0].units[0].artifacts[0].checks.map((c: { id: string }) => [c.id, c]));
      expect(checks.fresh).toMatchObject({ status: 'ok' });
      expect(checks.checksum).toMatchObject({ status: 'ok' });
      // The size bound is judged against the history that survived, the killed run's entry included only when it was written.
      expect(checks.size.status).toBe('ok');
      expect(checks.size.message).toContain(`of the last ${point.historyBefore} verified size(s)`);
      expect(JSON.parse(await readFile(history, 'utf8')).entries).toHaveLength(point.historyBefore + 1);
      expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(/^rearguard_run_status\{command="orchestrate"\} 0$/m);
      expect(await ws.readJson(`state/runs/${report.run_id}/report.json`)).toMatchObject({ run_id: report.run_id, verdict: 'ok' });
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
      expect(processesIn(ws.dir)).toEqual([]);
      // No temp file of an interrupted write is left behind, and no secret was written anywhere.
      const files = listFiles(ws.dir);
      expect(files.filter((name) => TEMP_RE.test(name) && statSync(ws.file(name)).isFile())).toEqual(['report.json.1']);
      expect(await readFile(rotated, 'utf8')).toBe('{"rotated": true}\n');
      for (const name of files.filter((f) => f !== 'rearguard.yml')) expect(readFileSync(ws.file(name), 'utf8'), name).not.toContain(SECRET);
      expect(next.stdout + next.stderr).not.toContain(SECRET);
    });
  }
});

// With a cgroup the record is written once, before the spawn: the cgroup it names finds whatever the program
// starts. Without one it is written once the pid is known. Either way it is one line appended to the run's live.jsonl.
const programs = [
  { when: 'its line whole, before the spawn, with a cgroup (nothing started yet)', at: 'line-written', cgroups: true, started: false },
  { when: 'its line whole, after the spawn, without cgroups', at: 'line-written', cgroups: false, started: true },
  { when: 'its line cut in half, before the spawn, with a cgroup (nothing started yet)', at: 'line-torn', cgroups: true, started: false },
] as const;

describe('fault: kill -9 of rearguard as it records a program it starts', () => {
  for (const point of programs) {
    it(`${point.when}: the next run reads the record file, stops what it names, and leaves no record behind`, async () => {
      await ws.write('unit.sh', `#!/bin/sh
echo $$ >> pids
sleep 600 &
echo $! >> pids
wait
`);
      const config = (unit: string): string => `version: 1
state_dir: ./state
defaults:
  cgroups: ${point.cgroups}
stages:
  - name: s
    units:
      - name: backup
        run: ${unit}
        timeout: 60s
        kill_grace: 500ms
`;
      await writeFile(ws.file('rearguard.yml'), config('[sh, unit.sh]'));
      const escaped = ws.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const killed = await startCli(['orchestrate'], {
        cwd: ws.dir,
        env: {
          NODE_OPTIONS: `--import ${INJECT}`,
          REARGUARD_TEST_KILL_AT: point.at,
          REARGUARD_TEST_KILL_PATH: `^${escaped}/state/runs/[^/]+/live\\.jsonl$`,
        },
      });
      expect(killed.signal, String(killed.stderr)).toBe('SIGKILL');
      const [deadRun] = await runFolders();
      const journal = ws.file(`state/runs/${deadRun}/live.jsonl`);
      // The fixed point: the program's line, whole with its line break, or its first half only.
      const text = readFileSync(journal, 'utf8');
      if (point.at === 'line-written') {
        expect(text.endsWith('\n')).toBe(true);
        const lines = text.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0]!).pid > 0).toBe(point.started);
      } else {
        expect(text).not.toContain('\n');
        expect(() => JSON.parse(text)).toThrow();
      }
      if (!point.started) expect(existsSync(ws.file('pids'))).toBe(false);

      await writeFile(ws.file('rearguard.yml'), config('[touch, ran]'));
      const next = await runCli(['orchestrate'], { cwd: ws.dir });
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      expect(next.stderr).toMatch(/recovered a stale lock/);
      // The program is named once at most (its first process may have died with rearguard before it started anything).
      const stopped = /stopped \d+ process\(es\) left running by the killed run \S+: (.*)/.exec(next.stderr)?.[1];
      if (stopped) expect(stopped.split('; ')).toHaveLength(1);
      if (!point.started) expect(stopped).toBeUndefined();
      expect(existsSync(ws.file('ran'))).toBe(true);
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
      expect(processesIn(ws.dir)).toEqual([]);
      // The dead run's record file is gone with what it named, and the new run's with its own program.
      expect(listFiles(ws.dir).filter((name) => name.endsWith('live.jsonl'))).toEqual([]);
    });
  }
});

// Fault: a run at scale (no Node warning may reach the user): 1,000 units on a terminal (the live view) and a verify of 10,000 artifacts (1,000 with checksums)
// print no Node warning (MaxListenersExceededWarning, deprecations, ...). Node's warnings are left on: the
// environment clears NODE_NO_WARNINGS, so a warning any part of the run causes reaches stderr and fails the test.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';

// What Node prints for a warning: "(node:1234) MaxListenersExceededWarning: ...", "(node:1234) [DEP0005] DeprecationWarning: ...".
const NODE_WARNING = /\(node:\d+\)|Warning/;
const NODE_ENV = { NODE_NO_WARNINGS: undefined, NODE_OPTIONS: undefined };
const HAVE_SCRIPT = requireTool('script', 'apt-get install bsdutils');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-scale-');
});
afterEach(async () => {
  await ws.cleanup();
});

describe('no Node warning at scale', () => {
  it.runIf(HAVE_SCRIPT)('orchestrate of 1,000 units on a 40x100 terminal: no warning on stderr, the compact view draws it', async () => {
    const units = Array.from({ length: 1000 }, (_v, i) => `      - name: unit-${i}\n        run: ['true']\n`).join('');
    await ws.write('rearguard.yml', `version: 1\nstate_dir: ./.rearguard\nstages:\n  - name: many\n    concurrency: 32\n    units:\n${units}`);
    const started = Date.now();
    const result = await execa('script', ['-qec', `stty rows 40 cols 100; ${process.execPath} ${BIN} orchestrate 2>stderr.txt`, '/dev/null'], {
      cwd: ws.dir,
      reject: false,
      env: { CI: '', TERM: 'xterm-256color', ...NODE_ENV },
    });
    const stderr = await readFile(ws.file('stderr.txt'), 'utf8');
    expect(result.exitCode, `${result.stdout.slice(-2000)}\n${stderr}`).toBe(0);
    expect(stderr).not.toMatch(NODE_WARNING);
    expect(result.stdout).not.toMatch(NODE_WARNING);
    expect(result.stdout).toMatch(/verdict: ok \(exit 0\): all 1000 unit\(s\)/);
    // The compact frame drew it: the listr2 tree of 1,000 units took more than ten minutes to draw on this
    // 2-core machine; the run itself takes 5-15 s (about 9 s of CPU).
    expect(result.stdout).toMatch(/\/1000 done · \d+ running · \d+ queued · 0 failed/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('verify of 10,000 artifacts (sizes; sha256 sidecars on 1,000): no warning on stderr, every artifact in the report', async () => {
    const stages: string[] = [];
    await mkdir(ws.file('backups'));
    for (let u = 0; u < 100; u++) {
      const artifacts: string[] = [];
      await Promise.all(
        Array.from({ length: 100 }, async (_v, a) => {
          const name = `b-${u}-${a}.dump`;
          const body = `backup ${u} ${a}\n`;
          await writeFile(ws.file(`backups/${name}`), body);
          // A sidecar on every tenth: 1,000 hashes in the worker pool, and half the files to create.
          if (a % 10 > 0) return artifacts.push(`          - path: backups/${name}\n            size: { min: 1B }\n`);
          await writeFile(ws.file(`backups/${name}.sha256`), `${createHash('sha256').update(body).digest('hex')}  ${name}\n`);
          return artifacts.push(`          - path: backups/${name}\n            size: { min: 1B }\n            checksum: sidecar\n`);
        }),
      );
      stages.push(`      - name: unit-${u}\n        run: ['true']\n        artifacts:\n${artifacts.join('')}`);
    }
    await ws.write('rearguard.yml', `version: 1\nstate_dir: ./.rearguard\nstages:\n  - name: many\n    concurrency: 100\n    units:\n${stages.join('')}`);
    const result = await execa(process.execPath, [BIN, 'verify', '--json', 'report.json'], { cwd: ws.dir, reject: false, env: { CI: 'true', NO_COLOR: '1', ...NODE_ENV } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(NODE_WARNING);
    expect(result.stdout).not.toMatch(NODE_WARNING);
    expect(result.stdout).toMatch(/verdict: ok \(exit 0\): all 100 unit\(s\) and 21000 check\(s\) passed/);
    const report = await ws.readJson<{ stages: Array<{ units: Array<{ artifacts: unknown[] }> }> }>('report.json');
    expect(report.stages[0]!.units.reduce((n, unit) => n + unit.artifacts.length, 0)).toBe(10_000);
  });
});

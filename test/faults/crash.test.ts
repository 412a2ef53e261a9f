// Fault: an exception thrown inside a callback, or a rejection nobody awaited, at a fixed point of a run.
// A crash is never a "go": exit 2, the verdict line, the report and metrics written, the lock released.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

const INJECT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inject-crash.mjs');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-crash-');
  await ws.write(
    'rearguard.yml',
    `version: 1
state_dir: ./state
stages:
  - name: app
    units:
      - name: dump
        run: [node, -e, "require('fs').mkdirSync('out',{recursive:true}); require('fs').writeFileSync('out/db.bin', 'x'.repeat(4096))"]
        timeout: 30s
        artifacts:
          - path: out/db.bin
            size: { min: 1KiB }
      - name: files
        run: [node, -e, "setTimeout(() => {}, 1500)"]
        timeout: 30s
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`,
  );
});
afterEach(async () => {
  await ws.cleanup();
});

const points = [
  { kind: 'uncaught', at: 'unit app/files: started', phase: 'while a unit runs' },
  { kind: 'rejection', at: 'check exists ok', phase: 'during verification' },
  { kind: 'uncaught', at: 'unit app/dump: ok', phase: 'between units' },
];

describe('a crash at a fixed point ends in exit 2 with a report', () => {
  for (const point of points) {
    it(`${point.kind} ${point.phase}`, async () => {
      const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], {
        cwd: ws.dir,
        env: { NODE_OPTIONS: `--import ${INJECT}`, REARGUARD_TEST_CRASH_AT: point.at, REARGUARD_TEST_CRASH_KIND: point.kind },
      });
      expect(result.stderr).toContain(`injected ${point.kind} failure`);
      expect(result.exitCode, result.stdout + result.stderr).toBe(2);
      expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\): .*internal error: injected/);
      const report = await ws.readJson('report.json');
      expect(report).toMatchObject({ verdict: 'critical', exit_code: 2 });
      expect(report.reason).toContain('internal error: injected');
      expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(/^rearguard_run_status\{command="orchestrate"\} 2$/m);
      expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
    });
  }
});

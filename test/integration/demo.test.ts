// The front door: the bundled demo makes, verifies and restore-tests real backups, and every command answers 0.
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  // A copy inside the repository, so the demo scripts still resolve the project's node_modules.
  await mkdir(path.join(ROOT, 'test/.cache'), { recursive: true });
  dir = await mkdtemp(path.join(ROOT, 'test/.cache/demo-'));
  await cp(path.join(ROOT, 'examples/demo'), dir, {
    recursive: true,
    filter: (src) => !/[/\\](backups|reports|\.rearguard)$/.test(src),
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the demo (npm start)', () => {
  it('orchestrate, verify, restore-test and audit all answer ok on the bundled sample data', async () => {
    const orchestrate = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: dir });
    expect(orchestrate.exitCode, orchestrate.stdout).toBe(0);
    expect(orchestrate.verdictLine).toBe('verdict: ok (exit 0): all 2 unit(s) and 10 check(s) passed');
    expect(orchestrate.stdout).toMatch(/check restore ok: restored \d+ entries .* into a private scratch folder; json: \d+ file\(s\) ok; sha256sums: \d+ file\(s\) match SHA256SUMS/);
    expect(orchestrate.stdout).toMatch(/check sqlite ok: .*integrity_check ok/);
    for (const command of ['verify', 'restore-test', 'audit']) {
      const result = await runCli([command, '-c', 'rearguard.yml'], { cwd: dir });
      expect(result.exitCode, `${command}\n${result.stdout}`).toBe(0);
      expect(result.verdictLine).toMatch(/^verdict: ok \(exit 0\)/);
    }
  });
});

// Fault: an artifact's mtime lies in the future (a NAS with a wrong clock, a restored file, touch -d); neither max_age nor fresh calls it fresh.
import { utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

const DAY = 86_400_000;

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-future-');
  const file = await ws.write('out/db.bin', 'x'.repeat(4096));
  const future = new Date(Date.now() + 3 * DAY);
  await utimes(file, future, future);
});
afterEach(async () => {
  await ws.cleanup();
});

/** A unit that writes nothing (`true`): only the file dated in the future is there. */
const config = `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: dump
        run: ["true"]
        artifacts:
          - path: out/db.bin
            max_age: 26h
`;

type Check = { id: string; status: string; message: string };

async function run(command: string) {
  await ws.write('rearguard.yml', config);
  const result = await runCli([command, '--json', 'r.json'], { cwd: ws.dir });
  const report = await ws.readJson('r.json');
  const unit = report.stages[0].units[0];
  return { result, report, unit, checks: unit.artifacts[0].checks as Check[] };
}

describe('fault: an artifact dated in the future', () => {
  it('verify: max_age fails it, naming the date and the clock, exit 2', async () => {
    const { result, unit, checks } = await run('verify');
    expect(result.exitCode, result.stdout).toBe(2);
    const maxAge = checks.find((c) => c.id === 'max_age')!;
    expect(maxAge.status).toBe('failed');
    expect(maxAge.message).toMatch(/in the future: its age cannot be judged; fix the clock/);
    expect(unit.status).not.toBe('ok');
    expect(unit.message).toBeTruthy();
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });

  it('orchestrate: fresh fails it although "written after the unit started" holds, exit 2', async () => {
    const { result, unit, checks } = await run('orchestrate');
    expect(result.exitCode, result.stdout).toBe(2);
    const fresh = checks.find((c) => c.id === 'fresh')!;
    expect(fresh.status).toBe('failed');
    expect(fresh.message).toMatch(/in the future: .*cannot show that this run wrote it/);
    expect(unit.status).toBe('failed');
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\)/);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });

  it('audit: never reports it as fresh', async () => {
    await ws.write('rearguard.yml', config);
    const result = await runCli(['audit', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout).not.toBe(0);
    expect(result.stdout).toMatch(/in the future/);
  });
});

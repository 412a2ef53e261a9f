// Fault: a unit floods its output (a verbose rsync, a loop gone wrong). The log stays within log_max: head and tail kept, one line for the dropped middle, the report says so.
import { readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-flood-');
});
afterEach(async () => {
  await ws.cleanup();
});

describe('fault: a log flood', () => {
  it('keeps the log within log_max with its first and last lines, and the report says it was truncated', async () => {
    await ws.write('rearguard.yml', `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: chatty
        run: [seq, '1', '1000000']
        log_max: 1MiB
        timeout: 60s
`);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.verdictLine, result.stdout).toMatch(/^verdict: ok/);
    const unit = (await ws.readJson('r.json')).stages[0].units[0];
    const printed = Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`).join('').length;
    expect(unit.log_truncated).toEqual({ bytes: printed, dropped_bytes: printed - 1024 * 1024 });
    const log = await readFile(unit.log, 'utf8');
    // rearguard's own notes, the cap, and the marker line are all the log holds beyond the kept output.
    expect((await stat(unit.log)).size).toBeLessThan(1024 * 1024 + 4096);
    expect(log).toMatch(/\n1\n2\n3\n/);
    expect(log).toMatch(new RegExp(`\\[rearguard \\S+\\] log_max: ${printed - 1024 * 1024} bytes of output dropped here`));
    expect(log).toMatch(/\n999999\n1000000\n/);
  });
});

// rearguard history draws each artifact's verified sizes as a sparkline against the allowed band; --json has the data.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

const CONFIG = `version: 1
state_dir: state
stages:
  - name: dumps
    units:
      - name: db
        run: [node, -e, "const fs = require('fs'); fs.mkdirSync('out', { recursive: true }); fs.writeFileSync('out/backup-' + Date.now() + '.bin', Buffer.alloc(Number(fs.readFileSync('size.txt', 'utf8')), 1))"]
        artifacts:
          - path: out/backup-*.bin
            size: { min: 1B, max_shrink: 50%, max_growth: 1000%, window: 3 }
`;

let ws: Workspace;
beforeAll(async () => {
  ws = await makeWorkspace();
  await ws.write('rearguard.yml', CONFIG);
  // 100 B first, then 1000 B three times: each run passes against the history it had, but today's band
  // (the median 1000 B of the last 3, -50% .. +1000%) no longer holds the first one.
  for (const size of [100, 1000, 1000, 1000]) {
    await ws.write('size.txt', String(size));
    const run = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(run.exitCode, run.stdout).toBe(0);
  }
});
afterAll(async () => {
  await ws.cleanup();
});

describe('history size trend', () => {
  it('draws the sizes on one scale with the band, and marks the points outside it', async () => {
    const shown = await runCli(['history'], { cwd: ws.dir });
    expect(shown.exitCode).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines).toContain('  trend    ▁▂▂▂  100 B → 1000 B over 4 verified run(s)');
    expect(lines).toContain("           ^  outside today's band");
    expect(lines).toContain('  band     baseline ▂ 1000 B; allowed from ▁ 500 B to █ 10.7 KiB (11000 bytes)');
  });

  it('--json carries the points, their levels, the scale, the band and the points outside it', async () => {
    const json = JSON.parse((await runCli(['history', '--json'], { cwd: ws.dir })).stdout) as { artifacts: Array<{ trend: unknown }> };
    expect(json.artifacts[0]!.trend).toEqual({
      points: [100, 1000, 1000, 1000],
      levels: [0, 1, 1, 1],
      scale: { low: 100, high: 11000 },
      baseline: 1000,
      lowest: 500,
      highest: 11000,
      outside: [0],
    });
  });

  it('paints the points outside the band red when colour is on, and not with NO_COLOR', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: ws.dir };
    const coloured = await execa(process.execPath, [BIN, 'history'], { cwd: ws.dir, extendEnv: false, env: { ...env, FORCE_COLOR: '1' } });
    expect(coloured.stdout).toContain('\u001b[31m▁\u001b[39m▂▂▂');
    const plain = await execa(process.execPath, [BIN, 'history'], { cwd: ws.dir, extendEnv: false, env: { ...env, FORCE_COLOR: '1', NO_COLOR: '' } });
    expect(plain.stdout).not.toContain('\u001b[');
  });
});

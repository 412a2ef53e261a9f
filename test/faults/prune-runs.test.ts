// Fault: an old run folder that keep_runs prunes cannot be removed (a mount point inside it: rmdir fails with EBUSY); the run goes on and answers "go with warnings", naming the folder.
// Removing old folders is housekeeping: it never stops a deploy.
import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { mountTmpfs, requireTmpfs, type Tmpfs } from '../helpers/tmpfs.js';

const tmpfsOk = await requireTmpfs();

let ws: Workspace;
let mounted: Tmpfs | undefined;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-prune-');
  mounted = undefined;
});
afterEach(async () => {
  await mounted?.unmount();
  await ws.cleanup();
});

const config = `version: 1
state_dir: ./state
keep_runs: { count: 1 }
stages:
  - name: s
    units:
      - name: app
        run: [sh, -c, 'echo dumped']
report: { json: ./report.json }
`;

const runFolders = async (): Promise<string[]> => (await readdir(ws.file('state/runs'))).filter((name) => /^\d{8}T/.test(name)).sort();

describe('keep_runs', () => {
  it('keeps the newest run folders only: after three runs with count 1, the last one', async () => {
    await ws.write('rearguard.yml', config);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const result = await runCli(['orchestrate'], { cwd: ws.dir });
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      ids.push((await ws.readJson('report.json')).run_id as string);
    }
    expect(await runFolders()).toEqual([ids[2]]);
  });
});

describe.runIf(tmpfsOk)('fault: an old run folder that cannot be removed', () => {
  it('is a warning naming the folder and the reason (exit 1), the units run, and the next run removes it once it can', async () => {
    await ws.write('rearguard.yml', config);
    expect((await runCli(['orchestrate'], { cwd: ws.dir })).exitCode).toBe(0);
    const [old] = await runFolders();
    mounted = await mountTmpfs('64k', { dir: ws.file(`state/runs/${old}/held`) });

    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const report = await ws.readJson('report.json');
    expect(report.verdict).toBe('partial');
    expect(report.stages[0].units[0].status).toBe('ok');
    expect(report.warnings).toEqual([expect.stringMatching(new RegExp(`could not remove the old run folder \\S+/state/runs/${old} \\(keep_runs\\): EBUSY`))]);
    expect(await runFolders()).toEqual([old, report.run_id].sort());

    await mounted.unmount();
    mounted = undefined;
    expect((await runCli(['orchestrate'], { cwd: ws.dir })).exitCode).toBe(0);
    expect(await runFolders()).toEqual([(await ws.readJson('report.json')).run_id]);
  });
});

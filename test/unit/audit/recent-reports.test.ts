// readRecentReports: the last runs' verdicts in the order they finished, even when run ids share a second.
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRecentReports } from '../../../src/audit/gather.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-recent-reports-');
});
afterEach(async () => {
  await ws.cleanup();
});

async function run(id: string, finished: string, verdict: string): Promise<void> {
  await mkdir(ws.file(`runs/${id}`), { recursive: true });
  await writeFile(ws.file(`runs/${id}/report.json`), JSON.stringify({ schema: 'rearguard.report/v1', run_id: id, finished_at: finished, verdict }));
}

describe('readRecentReports', () => {
  it('puts the run that finished last first, though two ids share a second and sort the other way by name', async () => {
    await run('20261123T021500Z-ffff', '2026-11-23T02:15:00.200Z', 'ok');
    await run('20261123T021500Z-0000', '2026-11-23T02:15:00.900Z', 'critical');
    await run('20261123T021459Z-aaaa', '2026-11-23T02:14:59.500Z', 'ok');
    await mkdir(ws.file('runs/20261123T021458Z-bbbb'));
    const { runs, runsWithoutReport } = await readRecentReports(ws.dir);
    expect(runs.map((r) => `${r.run_id} ${r.verdict}`)).toEqual([
      '20261123T021500Z-0000 critical',
      '20261123T021500Z-ffff ok',
      '20261123T021459Z-aaaa ok',
    ]);
    expect(runsWithoutReport).toBe(1);
  });
});

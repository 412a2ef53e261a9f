import { readdir, readFile, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeMetricsTextfile } from '../../../src/report/metrics-textfile.js';
import type { MetricSample } from '../../../src/report/metrics-samples.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

const run = (command: string, status: number, lastSuccess?: number): MetricSample[] => [
  { name: 'rearguard_run_status', labels: { command }, value: status },
  ...(lastSuccess === undefined ? [] : [{ name: 'rearguard_run_last_success_timestamp_seconds', labels: { command }, value: lastSuccess }]),
];

describe('writeMetricsTextfile', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await makeWorkspace();
  });
  afterEach(async () => ws.cleanup());

  it('keeps other commands and an earlier last_success, leaves no temp file, and is world-readable', async () => {
    const file = ws.file('collector/rearguard.prom');
    expect(await writeMetricsTextfile(file, run('orchestrate', 0, 1000), 'orchestrate')).toEqual([]);
    expect(await writeMetricsTextfile(file, run('verify', 0, 2000), 'verify')).toEqual([]);
    expect(await writeMetricsTextfile(file, run('orchestrate', 2), 'orchestrate')).toEqual([]);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('rearguard_run_status{command="orchestrate"} 2');
    expect(text).toContain('rearguard_run_last_success_timestamp_seconds{command="orchestrate"} 1000');
    expect(text).toContain('rearguard_run_last_success_timestamp_seconds{command="verify"} 2000');
    expect(text.match(/^# TYPE rearguard_run_status gauge$/gm)).toHaveLength(1);
    expect(await readdir(ws.file('collector'))).toEqual(['rearguard.prom']);
    expect((await stat(file)).mode & 0o777).toBe(0o644);
  });

  it('returns a warning naming the file when it cannot be written, and does not throw', async () => {
    await ws.write('not-a-dir', 'x');
    const warnings = await writeMetricsTextfile(ws.file('not-a-dir/rearguard.prom'), run('verify', 0, 1), 'verify');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(ws.file('not-a-dir/rearguard.prom'));
    expect(warnings[0]).toContain('metrics.textfile');
  });
});

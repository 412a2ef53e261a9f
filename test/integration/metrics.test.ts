// Metrics on every path, against a real Pushgateway started here: success, failure, pre-flight failure, SIGTERM, lock held.
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { havePushgateway, startPushgateway, type Pushgateway } from '../helpers/pushgateway.js';

const enabled = havePushgateway();
const LAST_SUCCESS = 'rearguard_run_last_success_timestamp_seconds';
const ORCH = { job: 'rearguard', command: 'orchestrate' };

/** A config with one stage; `unit` is the YAML of its single unit. Metrics go to the Pushgateway and a textfile. */
function config(pushgateway: string, unit: string, preflight = '[]'): string {
  return [
    'version: 1',
    'state_dir: ./state',
    `preflight: ${preflight}`,
    'stages:',
    '  - name: app',
    '    units:',
    ...unit.split('\n').map((line) => `      ${line}`),
    'metrics:',
    `  pushgateway: { url: "${pushgateway}", job: rearguard, timeout: 5s }`,
    '  textfile: ./node-exporter/rearguard.prom',
    '',
  ].join('\n');
}

const WRITER = [
  '- name: writer',
  '  run: [node, -e, "require(\'fs\').mkdirSync(\'out\',{recursive:true}); require(\'fs\').writeFileSync(\'out/a-\'+Date.now()+\'.txt\', \'x\'.repeat(2048))"]',
  '  timeout: 30s',
  '  artifacts:',
  '    - path: out/a-*.txt',
].join('\n');
const FAILING = ['- name: writer', '  run: [node, -e, "process.exit(3)"]', '  timeout: 30s', '  critical: true'].join('\n');
const SLOW = ['- name: slow', '  run: [node, -e, "console.log(\'working\'); setTimeout(() => {}, 60000)"]', '  timeout: 2m', '  kill_grace: 2s'].join('\n');

async function textfileValue(ws: Workspace, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await readFile(ws.file('node-exporter/rearguard.prom'), 'utf8');
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** Resolves once the child printed `text` on stdout. */
function waitForOutput(child: ReturnType<typeof startCli>, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) resolve();
    });
    child.then(() => reject(new Error(`the run ended before printing "${text}":\n${seen}`)), reject);
  });
}

describe.runIf(enabled)('metrics on every path (real Pushgateway)', () => {
  let pgw: Pushgateway;
  let ws: Workspace;
  beforeAll(async () => {
    pgw = await startPushgateway();
  });
  afterAll(async () => pgw?.stop());
  beforeEach(async () => {
    await pgw.wipe();
    ws = await makeWorkspace();
  });
  afterEach(async () => ws.cleanup());

  it('success pushes the whole set; a failed run then sends status 2 and leaves last_success alone', async () => {
    await ws.write('rearguard.yml', config(pgw.url, WRITER));
    const ok = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(ok.verdictLine).toMatch(/^verdict: ok/);
    expect(ok.exitCode).toBe(0);
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(0);
    const success = await pgw.value(LAST_SUCCESS, ORCH);
    const ranAt = await pgw.value('rearguard_run_timestamp_seconds', ORCH);
    expect(success).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(success).toBe(ranAt);
    expect(await pgw.value('rearguard_unit_status', { ...ORCH, stage: 'app', unit: 'writer' })).toBe(0);
    expect(await pgw.value('rearguard_unit_duration_seconds', { ...ORCH, unit: 'writer' })).toBeGreaterThan(0);
    expect(await pgw.value('rearguard_artifact_bytes', { ...ORCH, unit: 'writer', artifact: ws.file('out/a-*.txt') })).toBe(2048);
    expect(await pgw.value('rearguard_check_failed', { ...ORCH, unit: 'writer', check: 'exists' })).toBe(0);
    expect(await pgw.value('rearguard_run_duration_seconds', ORCH)).toBeGreaterThan(0);
    expect(await textfileValue(ws, LAST_SUCCESS, { command: 'orchestrate' })).toBe(success);

    await ws.write('rearguard.yml', config(pgw.url, FAILING));
    const failed = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(failed.exitCode).toBe(2);
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(2);
    expect(await pgw.value('rearguard_run_timestamp_seconds', ORCH)).toBeGreaterThan(ranAt ?? Infinity);
    expect(await pgw.value(LAST_SUCCESS, ORCH)).toBe(success);
    expect(await pgw.value('rearguard_unit_status', { ...ORCH, unit: 'writer' })).toBe(2);
    expect(await textfileValue(ws, 'rearguard_run_status', { command: 'orchestrate' })).toBe(2);
    expect(await textfileValue(ws, LAST_SUCCESS, { command: 'orchestrate' })).toBe(success);
  });

  it('a pre-flight failure pushes status 2 with every unit skipped (-1)', async () => {
    await ws.write('rearguard.yml', config(pgw.url, WRITER, '[{ command: [node, -e, "process.exit(1)"] }]'));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(result.verdictLine).toContain('pre-flight failed');
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(2);
    expect(await pgw.value('rearguard_unit_status', { ...ORCH, unit: 'writer' })).toBe(-1);
    expect(await pgw.value('rearguard_check_failed', { ...ORCH, unit: 'pre-flight', check: 'command' })).toBe(1);
    expect(await pgw.value(LAST_SUCCESS, ORCH)).toBeUndefined();
    expect(await textfileValue(ws, 'rearguard_run_status', { command: 'orchestrate' })).toBe(2);
  });

  it('SIGTERM mid-run still pushes status 2 and writes the textfile', async () => {
    await ws.write('rearguard.yml', config(pgw.url, SLOW));
    const child = startCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    await waitForOutput(child, 'unit app/slow: started');
    child.kill('SIGTERM');
    const result = toCliResult(await child);
    expect(result.exitCode).toBe(2);
    expect(result.verdictLine).toContain('aborted by SIGTERM');
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(2);
    expect(await pgw.value('rearguard_run_timestamp_seconds', ORCH)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await pgw.value(LAST_SUCCESS, ORCH)).toBeUndefined();
    expect(await textfileValue(ws, 'rearguard_run_status', { command: 'orchestrate' })).toBe(2);
  });

  it('a run refused because another holds the lock pushes nothing and says so', async () => {
    await ws.write('rearguard.yml', config(pgw.url, WRITER));
    expect((await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir })).exitCode).toBe(0);
    const before = await pgw.value('rearguard_run_timestamp_seconds', ORCH);

    await ws.write('rearguard.yml', config(pgw.url, SLOW));
    const holder = startCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    await waitForOutput(holder, 'unit app/slow: started');
    const refused = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.verdictLine).toContain('another run holds the lock');
    expect(refused.verdictLine).toContain('no report or metric was written');
    expect(await pgw.value('rearguard_run_timestamp_seconds', ORCH)).toBe(before);
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(0);

    holder.kill('SIGTERM');
    await holder;
  });

  it('verify and orchestrate land in separate groups and do not overwrite each other', async () => {
    await ws.write('rearguard.yml', config(pgw.url, WRITER));
    expect((await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir })).exitCode).toBe(0);
    await ws.write(
      'rearguard.yml',
      config(pgw.url, WRITER.replace('    - path: out/a-*.txt', '    - { path: out/none-*.txt, max_age: 1h }')),
    );
    expect((await runCli(['verify', '-c', 'rearguard.yml'], { cwd: ws.dir })).exitCode).toBe(2);
    expect(await pgw.value('rearguard_run_status', { job: 'rearguard', command: 'verify' })).toBe(2);
    expect(await pgw.value('rearguard_run_status', ORCH)).toBe(0);
    expect(await pgw.value(LAST_SUCCESS, ORCH)).toBeGreaterThan(0);
    expect(await textfileValue(ws, 'rearguard_run_status', { command: 'orchestrate' })).toBe(0);
    expect(await textfileValue(ws, 'rearguard_run_status', { command: 'verify' })).toBe(2);
  });
});

// A Pushgateway that is down, answers 500 or never answers costs a bounded timeout and makes the run partial, never hangs it.
// The 500 and never-answering servers are fakes (test/helpers/http-stub.ts): misbehaving on demand is the point.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { failing500, neverAnswers, type HttpStub } from '../helpers/http-stub.js';
import { freePort } from '../helpers/pushgateway.js';

function config(url: string, extra = ''): string {
  return [
    'version: 1',
    'state_dir: ./state',
    'stages:',
    '  - name: app',
    '    units:',
    '      - name: noop',
    '        run: [node, -e, "0"]',
    '        timeout: 30s',
    'report: { json: ./report.json }',
    'metrics:',
    `  pushgateway: { url: "${url}", job: rearguard, timeout: 1s }`,
    extra,
    '',
  ].join('\n');
}

describe('a failing Pushgateway', () => {
  let ws: Workspace;
  let stub: HttpStub | undefined;
  beforeEach(async () => {
    ws = await makeWorkspace();
  });
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
    await ws.cleanup();
  });

  it('closed port: warning naming the URL, verdict partial (exit 1), the textfile still written and showing 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await ws.write('rearguard.yml', config(url, '  textfile: ./rearguard.prom'));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(1);
    expect(result.verdictLine).toMatch(/^verdict: partial/);
    expect(result.stdout + result.stderr).toContain(`push to Pushgateway ${url}/`);
    expect(result.stdout + result.stderr).toContain('connection refused');
    const report = await ws.readJson('report.json');
    expect(report.verdict).toBe('partial');
    expect(report.warnings.join('\n')).toContain(url);
    const textfile = await readFile(ws.file('rearguard.prom'), 'utf8');
    expect(textfile).toContain('rearguard_run_status{command="orchestrate"} 1');
    expect(textfile).not.toContain('rearguard_run_last_success_timestamp_seconds{');
  });

  it('HTTP 500: partial, the status in the warning, credentials from the URL sent as Basic auth and never shown', async () => {
    stub = await failing500();
    const withCredentials = stub.url.replace('http://', 'http://pusher:hunter2secret@');
    await ws.write('rearguard.yml', config(withCredentials));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).toContain('HTTP 500');
    expect(result.stdout + result.stderr).toContain(`${stub.url.replace('http://', 'http://***@')}/`);
    expect(stub.requests[0]?.method).toBe('POST');
    expect(stub.requests[0]?.url).toBe('/metrics/job/rearguard/command/orchestrate');
    expect(stub.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('pusher:hunter2secret').toString('base64')}`);
    expect(stub.requests[0]?.body).toContain('rearguard_run_status{command="orchestrate"} 0');
    const report = await readFile(ws.file('report.json'), 'utf8');
    for (const text of [result.stdout, result.stderr, report]) expect(text).not.toContain('hunter2secret');
  });

  it('never answers: the run ends after metrics.pushgateway.timeout with verdict partial', async () => {
    stub = await neverAnswers();
    await ws.write('rearguard.yml', config(stub.url));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/no answer within 1(\.0)?s/);
    expect(stub.requests).toHaveLength(1);
  }, 8_000);

  it('a critical run stays critical when the push fails too', async () => {
    await ws.write('rearguard.yml', config(`http://127.0.0.1:${await freePort()}`).replace('run: [node, -e, "0"]', 'run: [node, -e, "process.exit(1)"]'));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect((await ws.readJson('report.json')).warnings.join('\n')).toContain('connection refused');
  });
});

// Webhook notifications: the JSON summary is POSTed for the configured verdicts, retried, and a failure is a warning.
// The receivers are fakes on loopback (test/helpers/http-stub.ts): a chat service cannot run here, nor fail on demand.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverWebhook } from '../../src/report/notify.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { failing500, startHttpStub, webhookReceiver, type HttpStub } from '../helpers/http-stub.js';

function config(notify: string, unitExit = 0): string {
  return [
    'version: 1',
    'state_dir: ./state',
    'stages:',
    '  - name: app',
    '    units:',
    '      - name: job',
    `        run: [node, -e, "process.exit(${unitExit})"]`,
    '        timeout: 30s',
    'report: { json: ./report.json }',
    'notify:',
    ...notify.split('\n').map((line) => `  ${line}`),
    '',
  ].join('\n');
}

describe('notify webhooks', () => {
  let ws: Workspace;
  const stubs: HttpStub[] = [];
  beforeEach(async () => {
    ws = await makeWorkspace();
  });
  afterEach(async () => {
    await Promise.all(stubs.splice(0).map((stub) => stub.close()));
    await ws.cleanup();
  });

  it('POSTs the JSON summary when the verdict is listed in `on`, and stays silent otherwise', async () => {
    const onFailure = await webhookReceiver();
    const onOk = await webhookReceiver();
    stubs.push(onFailure, onOk);
    await ws.write('rearguard.yml', config(`- { webhook: "${onFailure.url}/hook", on: [partial, critical] }\n- { webhook: "${onOk.url}/hook?token=s3cr3t-token", on: [ok] }`, 1));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(onOk.requests).toHaveLength(0);
    expect(onFailure.requests).toHaveLength(1);
    const request = onFailure.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/json');
    const summary = JSON.parse(request.body);
    const report = await ws.readJson('report.json');
    expect(summary).toMatchObject({
      schema: 'rearguard.summary/v1',
      run_id: report.run_id,
      command: 'orchestrate',
      verdict: 'critical',
      exit_code: 2,
      reason: report.reason,
      units_failed: [{ stage: 'app', unit: 'job', status: 'failed' }],
    });
    expect(summary.text).toContain('critical (exit 2)');
  });

  it('retries a 5xx and succeeds on a later attempt, without a warning', async () => {
    const flaky = await startHttpStub((n) => (n === 1 ? 503 : 200));
    stubs.push(flaky);
    await ws.write('rearguard.yml', config(`- { webhook: "${flaky.url}/", on: [ok], retries: 2, timeout: 2s }`));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(0);
    expect(flaky.requests).toHaveLength(2);
    expect(JSON.parse(flaky.requests[1]!.body).verdict).toBe('ok');
  });

  it('a failing webhook makes the metrics say partial too: metrics, report and exit code agree', async () => {
    const broken = await failing500();
    stubs.push(broken);
    await ws.write('rearguard.yml', `${config(`- { webhook: "${broken.url}/", on: [ok], retries: 0, timeout: 2s }`)}metrics: { textfile: ./prom/rearguard.prom }\n`);
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(1);
    const textfile = await readFile(ws.file('prom/rearguard.prom'), 'utf8');
    expect(textfile).toMatch(/^rearguard_run_status\{command="orchestrate"\} 1$/m);
    expect(textfile).not.toMatch(/^rearguard_run_last_success_timestamp_seconds/m);
    expect((await ws.readJson('report.json')).exit_code).toBe(1);
  });

  it('a webhook that keeps failing is a warning naming the redacted URL; the run becomes partial', async () => {
    const broken = await failing500();
    stubs.push(broken);
    const url = `${broken.url.replace('http://', 'http://bot:pa55word-x@')}/hook?token=t0ken-value`;
    await ws.write('rearguard.yml', config(`- { webhook: "${url}", on: [ok], retries: 1, timeout: 2s }`));
    const result = await runCli(['orchestrate', '-c', 'rearguard.yml'], { cwd: ws.dir });
    expect(result.exitCode).toBe(1);
    expect(broken.requests).toHaveLength(2);
    expect(broken.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('bot:pa55word-x').toString('base64')}`);
    const output = result.stdout + result.stderr;
    expect(output).toContain('not delivered after 2 attempts: HTTP 500');
    expect(output).toContain(`${broken.url.replace('http://', 'http://***@')}/hook?token=***`);
    const report = await ws.readJson('report.json');
    expect(report.verdict).toBe('partial');
    for (const text of [output, JSON.stringify(report)]) {
      expect(text).not.toContain('pa55word-x');
      expect(text).not.toContain('t0ken-value');
    }
  });

  it('does not retry a 4xx (the request itself is wrong) and bounds a silent receiver by the timeout', async () => {
    const rejecting = await startHttpStub(() => 404);
    const silent = await startHttpStub(() => 'hang');
    stubs.push(rejecting, silent);
    const noSleep = async (): Promise<void> => undefined;
    const notFound = await deliverWebhook({ url: rejecting.url, on: ['ok'], timeoutMs: 1000, retries: 3 }, '{}', noSleep);
    expect(notFound).toContain('after 1 attempt: HTTP 404');
    expect(rejecting.requests).toHaveLength(1);
    const hung = await deliverWebhook({ url: silent.url, on: ['ok'], timeoutMs: 300, retries: 1 }, '{}', noSleep);
    expect(hung).toMatch(/after 2 attempts: no answer within/);
    expect(silent.requests).toHaveLength(2);
  });
});

// The operator's kit in examples/: alert rules (promtool), systemd units (systemd-analyze), CI gate examples (run for real).
import { ARTIFACT_KINDS } from '../../src/cli/artifact-kinds.js';
import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { resolveConfig } from '../../src/config/resolve.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { resolveRunOptions } from '../../src/cli/options.js';
import { METRIC_FAMILIES } from '../../src/report/metrics-samples.js';
import { makeWorkspace, ROOT, type Workspace } from '../helpers/cli.js';
import { findTool, requireTool } from '../helpers/require-tool.js';

const EXAMPLES = path.join(ROOT, 'examples');
const EMITTED = new Set(METRIC_FAMILIES.map((family) => family.name));

describe('examples/alerts/rearguard.rules.yml', () => {
  const rulesFile = path.join(EXAMPLES, 'alerts', 'rearguard.rules.yml');

  it('names only metrics rearguard emits, and covers stale, failing, restore-test stale and unit failing', async () => {
    const doc = parseYaml(await readFile(rulesFile, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const rules = doc.groups.flatMap((group) => group.rules);
    for (const rule of rules) {
      const names = rule.expr.match(/\brearguard_[a-z_]+\b/g) ?? [];
      expect(names.length, `${rule.alert} names no rearguard metric`).toBeGreaterThan(0);
      for (const name of names) expect(EMITTED, `${rule.alert} uses ${name}, which rearguard does not emit`).toContain(name);
    }
    const byName = new Map(rules.map((rule) => [rule.alert, rule.expr]));
    expect(byName.get('RearguardBackupStale')).toContain('rearguard_run_last_success_timestamp_seconds');
    expect(byName.get('RearguardRunFailing')).toMatch(/rearguard_run_status\)? >= 1/);
    expect(byName.get('RearguardRestoreTestStale')).toMatch(/command="restore-test".*> 8 \* 86400/);
    expect(byName.get('RearguardUnitFailing')).toMatch(/rearguard_unit_status\)? >= 2/);
  });

  it('passes `promtool check rules` and its own `promtool test rules` cases', async () => {
    if (!requireTool('promtool', 'apt-get install prometheus')) return;
    const check = await execa('promtool', ['check', 'rules', rulesFile], { reject: false });
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('SUCCESS: 8 rules found');
    const test = await execa('promtool', ['test', 'rules', 'rearguard.rules.test.yml'], { cwd: path.dirname(rulesFile), reject: false });
    expect(test.exitCode, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
  }, 30_000);
});

/** Reads a systemd unit file into section → key → value (last one wins, as systemd does for these keys). */
function parseUnitFile(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections[header[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit-file line: ${raw}`);
    current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return sections;
}

/** Parses the systemd time spans the examples use ("6h", "2min", "30s") into ms. */
function parseTimespan(text: string): number {
  const units: Record<string, number> = { s: 1_000, sec: 1_000, min: 60_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)\s*([a-z]+)/g)) {
    const factor = units[unit!];
    if (!factor) throw new Error(`unknown time unit in ${text}`);
    total += Number(n) * factor;
  }
  return total;
}

/** The longest a run of `config` can take before rearguard's own timeouts end it (systemd matches: up to 10 services). */
function worstCaseMs(config: ResolvedConfig): number {
  let total = 0;
  for (const check of config.preflight) if (check.kind === 'command') total += check.timeoutMs;
  for (const stage of config.stages) {
    for (const unit of stage.units) {
      const count = unit.action.kind === 'systemd-match' ? 10 : 1;
      const attempts = unit.retries + 1;
      const checks = unit.artifacts.reduce((sum, artifact) => sum + ((artifact.options.command as { timeoutMs?: number } | undefined)?.timeoutMs ?? 0), 0);
      total += count * (attempts * (unit.timeoutMs + unit.killGraceMs) + unit.retries * unit.retryDelayMs + checks);
    }
  }
  total += config.metrics.pushgateway?.timeoutMs ?? 0;
  for (const hook of config.notify) total += (hook.retries + 1) * hook.timeoutMs + hook.retries * 5_000;
  return total;
}

describe('examples/systemd', () => {
  const dir = path.join(EXAMPLES, 'systemd');
  const read = async (name: string) => parseUnitFile(await readFile(path.join(dir, name), 'utf8'));

  it('gives both services a TimeoutStartSec above the sum of the example config timeouts, and runs them idle', async () => {
    const options = resolveRunOptions('orchestrate', {}, { isTTY: false, env: {}, argv: [] });
    const config = await resolveConfig(path.join(dir, 'rearguard.yml'), options, { HOME: '/root' }, ARTIFACT_KINDS);
    const budget = worstCaseMs(config);
    expect(budget).toBeGreaterThan(3_600_000);
    for (const name of ['rearguard-restore-test.service', 'rearguard-orchestrate.service']) {
      const service = (await read(name)).Service!;
      expect(parseTimespan(service.TimeoutStartSec!), `${name}: TimeoutStartSec`).toBeGreaterThan(budget);
      expect(service.Type).toBe('oneshot');
      expect(service.IOSchedulingClass).toBe('idle');
      expect(Number(service.Nice)).toBeGreaterThan(0);
      expect(service.KillMode).toBe('mixed');
      expect(service.ExecStart).toMatch(/^\/usr\/local\/bin\/rearguard (restore-test|orchestrate) --config \/etc\/rearguard\/rearguard\.yml /);
    }
    expect((await read('rearguard-restore-test.service')).Service!.ExecStart).toContain(' restore-test ');
  });

  it('schedules the restore test weekly, persistent across downtime', async () => {
    const timer = (await read('rearguard-restore-test.timer')).Timer!;
    expect(timer.Unit).toBe('rearguard-restore-test.service');
    expect(timer.Persistent).toBe('true');
    if (!findTool('systemd-analyze')) {
      expect(timer.OnCalendar).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) /);
      return;
    }
    const next = await execa('systemd-analyze', ['calendar', '--iterations=2', timer.OnCalendar!], { env: { ...process.env, TZ: 'UTC' } });
    const elapses = [...next.stdout.matchAll(/(?:Next elapse|Iter\. #2): \w+ (\S+ \S+)/g)].map((m) => Date.parse(`${m[1]}Z`));
    expect(elapses, next.stdout).toHaveLength(2);
    expect(elapses[1]! - elapses[0]!).toBe(7 * 86_400_000);
  });

  it('passes `systemd-analyze verify` when systemd-analyze is there', async () => {
    if (!findTool('systemd-analyze')) {
      console.warn('systemd-analyze not available: the unit files were only parsed');
      return;
    }
    const ws = await makeWorkspace();
    try {
      const names = ['rearguard-restore-test.service', 'rearguard-restore-test.timer', 'rearguard-orchestrate.service', 'rearguard-orchestrate.timer'];
      for (const name of names) {
        // verify requires ExecStart to exist: point it at this checkout's CLI.
        const text = (await readFile(path.join(dir, name), 'utf8')).replaceAll('/usr/local/bin/rearguard', path.join(ROOT, 'bin', 'rearguard'));
        await ws.write(name, text);
      }
      const result = await execa('systemd-analyze', ['verify', ...names.map((name) => `./${name}`)], { cwd: ws.dir, reject: false });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr.trim()).toBe('');
    } finally {
      await ws.cleanup();
    }
  });
});

describe('examples/ci', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await makeWorkspace();
    await ws.write('out/a.txt', 'backup\n');
  });
  afterEach(async () => ws.cleanup());

  /** A verify config whose verdict is ok, partial (a warning-level stage fails) or critical. */
  async function writeConfig(verdict: 'ok' | 'partial' | 'critical'): Promise<string> {
    const missing = (level: string) =>
      [`  - name: ${level}`, ...(level === 'warn' ? ['    level: warning'] : []), '    units:', `      - name: ${level}-unit`, '        run: [node, -e, "0"]', '        artifacts:', '          - { path: out/missing-*.txt, max_age: 1h }'];
    const lines = ['version: 1', 'state_dir: ./state', 'stages:', '  - name: main', '    units:', '      - name: main-unit', '        run: [node, -e, "0"]', '        artifacts:', '          - { path: out/a.txt, max_age: 1h }'];
    if (verdict === 'partial') lines.push(...missing('warn'));
    if (verdict === 'critical') lines.push(...missing('error'));
    return ws.write('rearguard.yml', `${lines.join('\n')}\n`);
  }

  const env = () => ({ ...process.env, PATH: `${path.join(ROOT, 'bin')}:${process.env.PATH}`, CI: 'true', NO_COLOR: '1' });

  it('github-actions.yml: the gate step passes ok and partial, fails critical, reports uploaded always, deploy needs the gate', async () => {
    const workflow = parseYaml(await readFile(path.join(EXAMPLES, 'ci', 'github-actions.yml'), 'utf8'));
    const gateJob = workflow.jobs['backup-gate'];
    const gate = gateJob.steps.find((step: { id?: string }) => step.id === 'gate');
    const upload = gateJob.steps.find((step: { uses?: string }) => step.uses?.startsWith('actions/upload-artifact'));
    expect(upload.if).toBe('always()');
    expect(upload.with.path).toContain('reports/rearguard.xml');
    expect(gate.run).toContain('--junit reports/rearguard.xml');
    expect(workflow.jobs.deploy.needs).toBe('backup-gate');

    for (const [verdict, code] of [['ok', 0], ['partial', 0], ['critical', 2]] as const) {
      const configFile = await writeConfig(verdict);
      const outputFile = ws.file(`github-output-${verdict}`);
      await writeFile(outputFile, '');
      const script = (gate.run as string).replaceAll('/etc/rearguard/rearguard.yml', configFile);
      const result = await execa('bash', ['-e', '-c', script], { cwd: ws.dir, env: { ...env(), GITHUB_OUTPUT: outputFile }, reject: false });
      expect(result.exitCode, `${verdict}: ${result.stdout}\n${result.stderr}`).toBe(code);
      expect(await readFile(outputFile, 'utf8')).toContain(`verdict=${verdict}`);
      const junit = await readFile(ws.file('reports/rearguard.xml'), 'utf8');
      expect(junit).toContain('<testsuites');
      if (verdict === 'partial') expect(result.stdout).toContain('::warning title=rearguard::');
      if (verdict === 'critical') expect(result.stdout).toContain('::error title=rearguard::');
    }
  }, 60_000);

  it('gitlab-ci.yml: exit 1 allowed, JUnit report kept always, deploy in a later stage needing the gate', async () => {
    const pipeline = parseYaml(await readFile(path.join(EXAMPLES, 'ci', 'gitlab-ci.yml'), 'utf8'));
    const gate = pipeline['backup-gate'];
    expect(gate.allow_failure).toEqual({ exit_codes: [1] });
    expect(gate.artifacts.when).toBe('always');
    expect(gate.artifacts.reports.junit).toBe('reports/rearguard.xml');
    expect(pipeline.deploy.needs).toEqual(['backup-gate']);
    expect(pipeline.stages.indexOf(pipeline.deploy.stage)).toBeGreaterThan(pipeline.stages.indexOf(gate.stage));
    const command = (gate.script as string[]).join('\n');
    expect(command).toContain('--junit reports/rearguard.xml');

    for (const [verdict, code] of [['ok', 0], ['partial', 1], ['critical', 2]] as const) {
      const configFile = await writeConfig(verdict);
      const result = await execa('bash', ['-e', '-c', command.replaceAll('/etc/rearguard/rearguard.yml', configFile)], { cwd: ws.dir, env: env(), reject: false });
      expect(result.exitCode, `${verdict}: ${result.stdout}`).toBe(code);
      expect(await readFile(ws.file('reports/rearguard.json'), 'utf8')).toContain(`"verdict": "${verdict}"`);
    }
  }, 60_000);
});

// examples/grafana and examples/alerts use only metrics and labels that rearguard really exports: the exported set
// is read from the textfile of real runs (an ok one and one with a failed check), not from a list kept by hand.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeWorkspace, ROOT, runCli, type Workspace } from '../helpers/cli.js';

const DASHBOARD = path.join(ROOT, 'examples/grafana/rearguard-dashboard.json');
const ALERTS = path.join(ROOT, 'examples/alerts/rearguard.rules.yml');
// Labels the scrape adds (Prometheus: job, instance; the Pushgateway keeps job from the grouping key).
const SCRAPE_LABELS = ['job', 'instance'];

const config = (minSize: string) => `version: 1
state_dir: state
metrics: { textfile: metrics.prom }
stages:
  - name: dumps
    units:
      - name: db
        run: [node, -e, "require('fs').mkdirSync('out', { recursive: true }); require('fs').writeFileSync('out/db.sql', 'dump')"]
        artifacts:
          - path: out/db.sql
            size: { min: ${minSize}, level: warning }
`;

interface Exported {
  metrics: Set<string>;
  labels: Set<string>;
}

function readExposition(text: string, into: Exported): void {
  for (const line of text.split('\n')) {
    const sample = /^(rearguard_\w+)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    into.metrics.add(sample[1]!);
    for (const label of sample[2]?.matchAll(/(\w+)="/g) ?? []) into.labels.add(label[1]!);
  }
}

/** Metric and label names a PromQL expression or a template text refers to. */
function namesUsed(text: string): Exported {
  const metrics = new Set([...text.matchAll(/\brearguard_\w+/g)].map((m) => m[0]));
  const labels = new Set<string>();
  for (const group of text.matchAll(/\b(?:by|on|without|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const name of group[1]!.split(',').map((s) => s.trim()).filter(Boolean)) labels.add(name);
  }
  for (const selector of text.matchAll(/\{([^{}]*)\}/g)) {
    for (const matcher of selector[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)) labels.add(matcher[1]!);
  }
  for (const ref of text.matchAll(/\$labels\.(\w+)/g)) labels.add(ref[1]!);
  for (const legend of text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) labels.add(legend[1]!);
  for (const values of text.matchAll(/label_values\([^,]*,\s*(\w+)\)/g)) labels.add(values[1]!);
  return { metrics, labels };
}

function unknownNames(used: Exported, exported: Exported): string[] {
  return [
    ...[...used.metrics].filter((m) => !exported.metrics.has(m)).map((m) => `metric ${m}`),
    ...[...used.labels].filter((l) => !exported.labels.has(l) && !SCRAPE_LABELS.includes(l)).map((l) => `label ${l}`),
  ];
}

let ws: Workspace;
const exported: Exported = { metrics: new Set(), labels: new Set() };
beforeAll(async () => {
  ws = await makeWorkspace();
  // An ok run (it alone sends last_success) and a partial one (a failed check), both read from the real textfile.
  for (const [min, exit] of [['1B', 0], ['1MB', 1]] as const) {
    await ws.write('rearguard.yml', config(min));
    const run = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(run.exitCode, run.stdout).toBe(exit);
    readExposition(await readFile(ws.file('metrics.prom'), 'utf8'), exported);
  }
});
afterAll(async () => {
  await ws.cleanup();
});

describe('dashboard and alert rules', () => {
  it('the runs export the families the kit is built on', () => {
    expect([...exported.metrics]).toEqual(
      expect.arrayContaining(['rearguard_run_status', 'rearguard_run_last_success_timestamp_seconds', 'rearguard_unit_duration_seconds', 'rearguard_artifact_bytes', 'rearguard_check_failed']),
    );
    expect([...exported.labels]).toEqual(expect.arrayContaining(['command', 'stage', 'unit', 'artifact', 'check']));
  });

  it('the Grafana dashboard uses only exported metrics and labels, and shows last success, status, durations and sizes', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string; legendFormat?: string }> }>;
      templating: { list: Array<{ definition?: string }> };
    };
    const texts: string[] = [];
    for (const panel of dashboard.panels) for (const target of panel.targets) texts.push(target.expr, target.legendFormat ?? '');
    for (const variable of dashboard.templating.list) if (variable.definition) texts.push(variable.definition);
    const used = namesUsed(texts.join('\n'));
    expect(unknownNames(used, exported)).toEqual([]);
    expect([...used.metrics].sort()).toEqual([
      'rearguard_artifact_bytes',
      'rearguard_check_failed',
      'rearguard_run_last_success_timestamp_seconds',
      'rearguard_run_status',
      'rearguard_unit_duration_seconds',
      'rearguard_unit_status',
    ]);
  });

  it('the alert rules use only exported metrics and labels', async () => {
    const rules = parse(await readFile(ALERTS, 'utf8')) as {
      groups: Array<{ rules: Array<{ expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
    };
    const texts: string[] = [];
    for (const group of rules.groups) {
      for (const rule of group.rules) texts.push(rule.expr, ...Object.values(rule.labels ?? {}), ...Object.values(rule.annotations ?? {}));
    }
    const used = namesUsed(texts.join('\n'));
    expect(used.metrics.size).toBeGreaterThan(3);
    expect(unknownNames(used, exported)).toEqual([]);
  });

  it('the check itself catches a metric or label that is not exported', () => {
    const used = namesUsed('max by (job, unit, host) (rearguard_unit_bytes{command="orchestrate", tier="db"})');
    expect(unknownNames(used, exported)).toEqual(['metric rearguard_unit_bytes', 'label host', 'label tier']);
  });
});

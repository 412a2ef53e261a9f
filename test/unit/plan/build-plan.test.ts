// buildPlan and planArtifact: which steps each command runs, in which order, chosen by declarations (pure).
import { artifactFrom } from '../../helpers/fixtures.js';
import { describe, expect, it } from 'vitest';
import type { ResolvedArtifact, ResolvedConfig, RunOptions } from '../../../src/config/types.js';
import { buildPlan, planArtifact } from '../../../src/plan/build-plan.js';
import { UsageError } from '../../../src/errors.js';

const PATTERN = '/var/backups/app-*.tar.gz';

/** An artifact with every check and the upload configured. */
function fullArtifact(extra: Record<string, unknown> = {}): ResolvedArtifact {
  return artifactFrom({
    path: PATTERN,
    max_age: '1h',
    checksum: 'sidecar',
    size: { min: 1 },
    sqlite: { level: 'warning' },
    archive: true,
    restore: { json: '**/*.json' },
    command: ['true'],
    offsite: { host: 'nas', dir: '/backup' },
    upload: { host: 'nas', dir: '/backup' },
    ...extra,
  });
}

const ids = (artifact: ResolvedArtifact, command: Parameters<typeof planArtifact>[1]): string[] =>
  planArtifact(artifact, command, command === 'orchestrate', command === 'audit').checks.map((c) => c.id);

describe('planArtifact', () => {
  it('gives each command its steps: fresh and upload only when units run, max_age only when they do not, restore not in verify', () => {
    expect(ids(fullArtifact(), 'orchestrate')).toEqual(['exists', 'fresh', 'size', 'checksum', 'sqlite', 'archive', 'restore', 'command', 'upload', 'offsite']);
    expect(ids(fullArtifact(), 'verify')).toEqual(['exists', 'max_age', 'size', 'checksum', 'sqlite', 'archive', 'command', 'offsite']);
    expect(ids(fullArtifact(), 'restore-test')).toEqual(['exists', 'max_age', 'size', 'checksum', 'sqlite', 'archive', 'restore', 'command', 'offsite']);
  });

  it('gives audit only the read-only checks that need facts and history, never content, commands or hosts', () => {
    expect(ids(fullArtifact(), 'audit')).toEqual(['exists', 'max_age', 'size']);
  });

  it('runs the upload action after every local check and before the offsite check of the shipped copy', () => {
    const steps = ids(fullArtifact(), 'orchestrate');
    expect(steps.indexOf('upload')).toBe(steps.indexOf('offsite') - 1);
    expect(steps.indexOf('upload')).toBeGreaterThan(steps.indexOf('command'));
  });

  it('carries each step\'s declared stop rule: exists stops the artifact whatever its level', () => {
    const planned = planArtifact(fullArtifact({ level: 'warning' }), 'verify', false, false).checks;
    expect(planned.find((c) => c.id === 'exists')).toMatchObject({ level: 'warning', stops: 'always' });
    expect(planned.find((c) => c.id === 'size')).toMatchObject({ stops: 'at-error' });
  });

  it('refuses an artifact whose kind no source of this build knows', () => {
    expect(() => planArtifact({ ...fullArtifact(), source: { kind: 'tape', options: {} } }, 'verify', false, false)).toThrow(UsageError);
  });
});

const OPTIONS: RunOptions = {
  command: 'orchestrate', commandLine: 'rearguard orchestrate', dryRun: false, only: [], skip: [], color: false,
  verbose: false, quiet: false, waitLockMs: 0, interactive: false,
};

function config(): ResolvedConfig {
  const unit = (name: string, stage: string): ResolvedConfig['stages'][number]['units'][number] => ({
    name, stage, action: { kind: 'run', argv: ['true'] }, cwd: '/', env: {}, timeoutMs: 1000, killGraceMs: 100, retries: 0,
    retryDelayMs: 0, logMaxBytes: 1024, critical: false, level: 'error', ifRunning: 'wait', artifacts: [fullArtifact()],
  });
  return {
    file: '/etc/rearguard.yml', dir: '/etc', stateDir: '/tmp/state',
    defaults: { timeoutMs: 1000, killGraceMs: 100, systemctl: ['systemctl'], retryDelayMs: 0, logMaxBytes: 1024, leftovers: 'stop', cgroups: true },
    keepRuns: { count: 50, maxAgeMs: 1000 },
    warnings: [],
    hosts: {},
    preflight: [
      { kind: 'disk', path: '/var/backups', minFree: { bytes: 1 }, level: 'error' },
      { kind: 'command', argv: ['pg_isready'], timeoutMs: 1000, level: 'warning' },
    ],
    stages: [{ name: 'db', level: 'error', concurrency: 4, units: [unit('dump', 'db'), unit('files', 'db')] }],
    gate: { maxFailureRatio: 0.5 }, report: {}, metrics: {}, notify: [], env: {}, options: OPTIONS,
  };
}

describe('buildPlan', () => {
  it('lets every command but audit change state; audit takes no lock, keeps no run, records no history, delivers nothing', () => {
    for (const command of ['orchestrate', 'verify', 'restore-test'] as const) {
      expect(buildPlan(config(), { systemdServices: {} }, command).effects).toEqual({ lock: true, runRecord: true, history: true, deliver: true });
    }
    expect(buildPlan(config(), { systemdServices: {} }, 'audit').effects).toEqual({ lock: false, runRecord: false, history: false, deliver: false });
  });

  it('plans every pre-flight check for the deploy-gate commands, and only the read-only ones for audit', () => {
    expect(buildPlan(config(), { systemdServices: {} }, 'verify').preflight.map((p) => p.id)).toEqual(['disk', 'command']);
    expect(buildPlan(config(), { systemdServices: {} }, 'audit').preflight.map((p) => p.id)).toEqual(['disk']);
  });

  it('bounds a stage\'s concurrency by its units and runs units only in orchestrate', () => {
    const plan = buildPlan(config(), { systemdServices: {} }, 'orchestrate');
    expect(plan.runsUnits).toBe(true);
    expect(plan.stages[0]!.concurrency).toBe(2);
    expect(buildPlan(config(), { systemdServices: {} }, 'verify').runsUnits).toBe(false);
  });
});

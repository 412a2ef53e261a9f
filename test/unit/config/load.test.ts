import { describe, expect, it } from 'vitest';
import { ARTIFACT_KINDS } from '../../../src/cli/artifact-kinds.js';
import { parseRawConfig } from '../../../src/config/load.js';
import { normalizeConfig } from '../../../src/config/normalize.js';
import { buildJsonSchema } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';
import type { RunOptions } from '../../../src/config/types.js';

async function problemsOf(text: string): Promise<string[]> {
  try {
    await parseRawConfig(text, '/etc/rearguard.yml', ARTIFACT_KINDS);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n');
  }
  throw new Error('expected the config to be refused');
}

const OPTIONS: RunOptions = {
  command: 'orchestrate', commandLine: 'rearguard orchestrate', dryRun: false, only: [], skip: [], color: false,
  verbose: false, quiet: false, waitLockMs: 0, interactive: false,
};

describe('config validation', () => {
  it('names file, line, document path, expectation and what was found', async () => {
    const problems = await problemsOf(`version: 1
stages:
  - name: app
    units:
      - name: api
        run: [backup.sh]
        timeout: 30 minutes
`);
    expect(problems).toEqual([
      '/etc/rearguard.yml:7: stages[0].units[0].timeout: expected a duration like "90s", "5m" or "1h30m", got "30 minutes"',
    ]);
  });

  it('refuses unknown keys, pointing at the key itself', async () => {
    const problems = await problemsOf(`version: 1
stages:
  - name: app
    units:
      - name: api
        run: [backup.sh]
        timout: 5m
`);
    expect(problems).toEqual([
      '/etc/rearguard.yml:7: stages[0].units[0].timout: unknown key "timout" (check the spelling; unknown keys are errors)',
    ]);
  });

  it('lists every problem, sorted by line', async () => {
    const problems = await problemsOf(`version: 2
stages:
  - name: app
    concurrency: 0
    units:
      - name: api
        run: backup.sh
`);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^\/etc\/rearguard.yml:1: version: expected 1, got 2/);
    expect(problems[1]).toMatch(/:4: stages\[0\]\.concurrency: expected .*>=1.*got 0/);
    expect(problems[2]).toMatch(/:7: stages\[0\]\.units\[0\]\.run: expected array, got "backup.sh"/);
  });

  it('states a bound once, with what was found', async () => {
    const problems = await problemsOf(`version: 1
state_dir: ""
stages:
  - name: app
    concurrency: 0
    units:
      - name: api
        run: []
        retries: 11
`);
    expect(problems).toEqual([
      '/etc/rearguard.yml:2: state_dir: expected string to have >=1 characters, got ""',
      '/etc/rearguard.yml:5: stages[0].concurrency: expected number to be >=1, got 0',
      '/etc/rearguard.yml:8: stages[0].units[0].run: expected array to have >=1 items, got a list ([])',
      '/etc/rearguard.yml:9: stages[0].units[0].retries: expected number to be <=10, got 11',
    ]);
  });

  it('asks for a whole number and for http(s) URLs in words, where zod says "int" and takes any scheme', async () => {
    const problems = await problemsOf(`version: 1
stages:
  - name: app
    concurrency: 2.5
    units:
      - name: api
        run: [backup.sh]
metrics:
  pushgateway: { url: "pushgateway:9091" }
notify:
  - webhook: "ftp://hooks.example/deploy"
  - webhook: "https://hooks.example/deploy"
`);
    expect(problems).toEqual([
      '/etc/rearguard.yml:4: stages[0].concurrency: expected a whole number, got 2.5',
      '/etc/rearguard.yml:9: metrics.pushgateway.url: expected an http:// or https:// URL, got "pushgateway:9091"',
      '/etc/rearguard.yml:11: notify[0].webhook: expected an http:// or https:// URL, got "ftp://hooks.example/deploy"',
    ]);
  });

  it('requires exactly one action per unit', async () => {
    expect(await problemsOf(`version: 1\nstages:\n  - name: a\n    units:\n      - name: x\n        run: [a]\n        shell: b\n`)).toEqual([
      '/etc/rearguard.yml:5: stages[0].units[0]: a unit needs exactly one of run, shell, systemd, sqlite_backup; found run and shell',
    ]);
    expect((await problemsOf(`version: 1\nstages:\n  - name: a\n    units:\n      - name: x\n`))[0]).toMatch(/found none/);
  });

  it('requires exactly one kind per artifact, the kinds coming from the registered sources', async () => {
    const unit = (artifact: string): string => `version: 1\nstages:\n  - name: a\n    units:\n      - name: x\n        run: [a]\n        artifacts:\n          - ${artifact}\n`;
    const none = await problemsOf(unit('max_age: 1h'));
    expect(none).toHaveLength(1);
    expect(none[0]).toMatch(/^\/etc\/rearguard\.yml:8: stages\[0\]\.units\[0\]\.artifacts\[0\]: an artifact is exactly one of path(, [a-z_]+)*; found none$/);
    expect((await problemsOf(unit('path: 7')))[0]).toMatch(/stages\[0\]\.units\[0\]\.artifacts\[0\]\.path: .*string/);
  });

  it('refuses a config with no stages or a stage with no units: nothing to do never passes', async () => {
    expect((await problemsOf('version: 1\nstages: []\n'))[0]).toMatch(/stages: a config needs at least one stage/);
    expect((await problemsOf('version: 1\nstages:\n  - name: a\n    units: []\n'))[0]).toMatch(/stages\[0\]\.units: a stage needs at least one unit/);
  });

  it('refuses duplicate unit names and hosts that are not defined', async () => {
    const problems = await problemsOf(`version: 1
stages:
  - name: a
    units:
      - { name: x, run: [a] }
  - name: b
    units:
      - { name: x, run: [b], host: nas }
`);
    expect(problems.join('\n')).toMatch(/:8: stages\[1\]\.units\[0\]\.name: unit name "x" is already used at stages\[0\]\.units\[0\]/);
    expect(problems.join('\n')).toMatch(/stages\[1\]\.units\[0\]\.host: expected the name of an entry of hosts \(none defined\), got "nas"/);
  });

  it('reports invalid YAML with its line', async () => {
    expect((await problemsOf('version: 1\nstages:\n  - name: [unclosed\n'))[0]).toMatch(/^\/etc\/rearguard.yml:\d+: invalid YAML/);
  });

  it('reports an alias to no anchor at its line, as invalid YAML', async () => {
    // The yaml library finds it only as it turns the document into data, with an exception of its own.
    expect(await problemsOf('version: 1\nstages:\n  - name: a\n    units:\n      - name: u\n        run: [*backup]\n')).toEqual([
      '/etc/rearguard.yml:6: invalid YAML: Unresolved alias (the anchor must be set before the alias): backup',
    ]);
  });

  it('reads YAML outside the fast reader\'s subset, anchors and tags among them, to the same config', async () => {
    const written = await parseRawConfig(
      'version: 1\nstages:\n  - name: a\n    units:\n      - name: u\n        run: [backup.sh, "--fast"]\n        timeout: 10m\n      - name: v\n        run: [backup.sh, "--fast"]\n        timeout: 10m\n',
      '/etc/rearguard.yml',
      ARTIFACT_KINDS,
    );
    const aliased = await parseRawConfig(
      'version: !!int "1"\nstages:\n  - name: a\n    units:\n      - name: u\n        run: &run [backup.sh, "--fast"]\n        timeout: &t 10m\n      - name: v\n        run: *run\n        timeout: *t\n',
      '/etc/rearguard.yml',
      ARTIFACT_KINDS,
    );
    expect(aliased).toEqual(written);
  });

  it('picks the intended shape of a pre-flight item when reporting', async () => {
    const problems = await problemsOf(`version: 1
preflight:
  - disk: /mnt
    min_free: lots
stages:
  - name: a
    units: [{ name: x, run: [a] }]
`);
    expect(problems).toEqual([expect.stringMatching(/:4: preflight\[0\]\.min_free: expected a size like .*got "lots"/)]);
  });
});

describe('normalizeConfig', () => {
  it('resolves durations, sizes, defaults, levels and paths against the config folder', async () => {
    const raw = await parseRawConfig(
      `version: 1
defaults: { timeout: 1h30m, kill_grace: 3s }
preflight:
  - disk: backups
    min_free: 1.5GB
  - disk: /var
    min_free: 2x
stages:
  - name: snapshots
    level: warning
    units:
      - systemd: sanoid.service
        critical: true
  - name: app
    concurrency: 2
    units:
      - name: api
        run: [./backup.sh]
        timeout: 20m
        critical: true
        artifacts:
          - path: out/*.tar.gz
            checksum: sidecar
            size: { min: 1MiB, max_shrink: 50% }
`,
      '/srv/conf/rearguard.yml',
      ARTIFACT_KINDS,
    );
    const config = normalizeConfig(raw, { file: '/srv/conf/rearguard.yml', home: '/root', env: {}, options: OPTIONS, kinds: ARTIFACT_KINDS });
    expect(config.stateDir).toBe('/srv/conf/.rearguard');
    expect(config.preflight[0]).toEqual({ kind: 'disk', path: '/srv/conf/backups', minFree: { bytes: 1_500_000_000 }, level: 'error' });
    expect(config.preflight[1]).toMatchObject({ minFree: { multiple: 2 } });
    const [sanoid] = config.stages[0]!.units;
    expect(sanoid).toMatchObject({ name: 'sanoid.service', level: 'warning', critical: false, timeoutMs: 5_400_000, killGraceMs: 3000 });
    const [api] = config.stages[1]!.units;
    expect(api).toMatchObject({ name: 'api', level: 'error', critical: true, timeoutMs: 1_200_000, cwd: '/srv/conf' });
    expect(api!.artifacts[0]).toMatchObject({
      pattern: '/srv/conf/out/*.tar.gz',
      source: { kind: 'path', options: { pattern: '/srv/conf/out/*.tar.gz' } },
      options: {
        checksum: { kind: 'sidecar', level: 'error' },
        size: { minBytes: 1_048_576, maxShrinkPct: 50, window: 14, level: 'error' },
      },
    });
    // Keys left out are absent: each check applies its own default (fresh: true).
    expect(api!.artifacts[0]!.options).not.toHaveProperty('fresh');
  });
});

describe('JSON Schema', () => {
  it('describes the same rules: required keys and no additional properties', async () => {
    const schema = buildJsonSchema(ARTIFACT_KINDS) as { required?: string[]; additionalProperties?: boolean; properties: Record<string, unknown> };
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'stages']));
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['state_dir', 'defaults', 'hosts', 'preflight', 'stages', 'gate', 'report', 'metrics', 'notify']));
  });
});

describe('keys that would silently do nothing', () => {
  it('refuses env, env_file and cwd on systemd and sqlite_backup units', async () => {
    const problems = await problemsOf(`version: 1
stages:
  - name: a
    units:
      - systemd: restic.service
        env: { RESTIC_REPOSITORY: /srv/restic }
      - name: db
        sqlite_backup: { source: a.db, dest: "b-{timestamp}.db" }
        cwd: /tmp
`);
    expect(problems).toEqual([
      expect.stringMatching(/:6: stages\[0\]\.units\[0\]\.env: env has no effect on a systemd unit: .*Environment=/),
      expect.stringMatching(/:9: stages\[0\]\.units\[1\]\.cwd: cwd has no effect on a sqlite_backup unit/),
    ]);
  });
});

describe('record keys', () => {
  it('reports a bad record key at the key, with the rule it broke', async () => {
    const problems = await problemsOf(`version: 1
metrics:
  pushgateway: { url: "http://127.0.0.1:9091", labels: { command: x } }
stages:
  - name: a
    units: [{ name: x, run: [a] }]
`);
    expect(problems).toEqual([
      '/etc/rearguard.yml:3: metrics.pushgateway.labels.command: "job" and "command" are set by rearguard in the grouping key; choose another label name, got "command"',
    ]);
  });
});

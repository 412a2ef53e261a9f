// The config schema (zod): the single source of validation rules and of `config schema`.
import { z } from 'zod';
import { DURATION_PATTERN } from '../util/duration.js';
import { SIZE_PATTERN } from '../util/size.js';
import { findUnsafeSshOption } from '../exec/ssh-options.js';
import { artifactSources } from '../../sources/registry.js';

const duration = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like "90s", "5m" or "1h30m"' })
  .describe('A duration: "90s", "5m", "1h30m".');

const size = z
  .union([
    z.string().regex(new RegExp(SIZE_PATTERN), { error: 'expected a size like "500MB", "50GiB" or a number of bytes' }),
    z.number().int().nonnegative(),
  ])
  .describe('A size: "500MB", "50GiB" (SI and IEC), or plain bytes.');

const percent = z
  .string()
  .regex(/^\d+(?:\.\d+)?%$/, { error: 'expected a percentage like "50%"' })
  .describe('A percentage such as "50%".');

const level = z.enum(['error', 'warning']).describe('error (default) fails the gate; warning only downgrades it to partial.');
const argv = z.array(z.string().min(1)).min(1).describe('An argv list; never run through a shell.');
const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$/, {
    error: 'expected a name of letters, digits and _ . @ : + - (it names log files)',
  });
const hostRef = z.string().min(1).describe('The name of an entry of `hosts`.');
const remoteTarget = z.strictObject({ host: hostRef, dir: z.string().min(1) });
const verdict = z.enum(['ok', 'partial', 'critical']);

const checksum = z.union([
  z.literal('sidecar'),
  z.strictObject({ sidecar: z.literal(true), level: level.optional() }),
  z.strictObject({ manifest: z.string().min(1), level: level.optional() }),
]);

const restore = z.strictObject({
  sqlite: z.string().min(1).optional().describe('Glob of SQLite files in the restored tree; each must pass integrity_check.'),
  gzip: z.string().min(1).optional().describe('Glob of gzip files in the restored tree; each must decompress to its end.'),
  json: z.string().min(1).optional().describe('Glob of JSON files in the restored tree; each must parse.'),
  sha256sums: z.string().min(1).optional().describe('A sha256sum-format list inside the archive; every entry must match.'),
  command: argv.optional().describe('Run with the restored tree as cwd; exit 0 passes.'),
  scratch: z.string().min(1).optional().describe('Where scratch folders are made (default: the system temp dir).'),
  level: level.optional(),
});

// Each artifact is exactly one kind of backup; a kind's key and schema come from its source.
const SOURCE_KINDS = Object.keys(artifactSources);
const sourceKeys: Record<string, z.ZodOptional<z.ZodType>> = Object.fromEntries(
  Object.entries(artifactSources).map(([kind, source]) => [kind, source!.config.schema.optional()]),
);

const artifactChecks = z.strictObject({
  level: level.optional().describe('Default level of this artifact\'s checks.'),
  fresh: z.boolean().optional().describe('orchestrate: the file must be written by this run (default true).'),
  max_age: duration.optional().describe('verify/audit/restore-test: the newest match must be younger than this.'),
  checksum: checksum.optional(),
  size: z
    .strictObject({
      min: size.optional(),
      max_shrink: percent.optional(),
      max_growth: percent.optional(),
      window: z.number().int().min(1).max(100).optional(),
      level: level.optional(),
    })
    .optional(),
  sqlite: z.union([z.boolean(), z.strictObject({ level: level.optional() })]).optional(),
  archive: z
    .union([z.boolean(), z.strictObject({ expect: z.array(z.string().min(1)).optional(), level: level.optional() })])
    .optional(),
  restore: restore.optional(),
  command: z
    .union([argv, z.strictObject({ run: argv, timeout: duration.optional(), level: level.optional() })])
    .optional()
    .describe('Any argv; "{artifact}" is replaced by the artifact path; exit 0 passes.'),
  offsite: remoteTarget.extend({ level: level.optional() }).optional(),
  upload: remoteTarget.optional(),
});

/** An artifact as written: the checks' keys, typed, and one source kind's key. */
export type RawArtifact = z.output<typeof artifactChecks> & { readonly [kind: string]: unknown };

// Typed as RawArtifact: the kinds' keys are only known from the registry at run time.
const artifact = z.strictObject({ ...sourceKeys, ...artifactChecks.shape }).superRefine((value, ctx) => {
  const kinds = SOURCE_KINDS.filter((kind) => (value as Record<string, unknown>)[kind] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: `an artifact is exactly one of ${SOURCE_KINDS.join(', ')}; found ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`,
    });
  }
}) as unknown as z.ZodType<RawArtifact>;

const systemdMatch = z.strictObject({
  match: z.string().min(1).describe('A glob over service names, e.g. "restic-backup-*.service".'),
  exclude: z.array(z.string().min(1)).optional(),
});

const unit = z
  .strictObject({
    name: name.optional(),
    run: argv.optional(),
    shell: z.string().min(1).optional().describe('Explicit opt-in to /bin/sh -c.'),
    systemd: z.union([z.string().min(1), systemdMatch]).optional(),
    sqlite_backup: z.strictObject({ source: z.string().min(1), dest: z.string().min(1) }).optional(),
    host: hostRef.optional(),
    cwd: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    env_file: z.string().min(1).optional(),
    timeout: duration.optional(),
    kill_grace: duration.optional(),
    retries: z.number().int().min(0).max(10).optional(),
    retry_delay: duration.optional(),
    critical: z.boolean().optional(),
    level: level.optional(),
    if_running: z.enum(['wait', 'skip', 'fail']).optional(),
    artifacts: z.array(artifact).optional(),
  })
  .superRefine((value, ctx) => {
    const kinds = (['run', 'shell', 'systemd', 'sqlite_backup'] as const).filter((key) => value[key] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? 'a unit needs exactly one of run, shell, systemd, sqlite_backup; found none'
            : `a unit needs exactly one of run, shell, systemd, sqlite_backup; found ${kinds.join(' and ')}`,
      });
    }
    if (value.name === undefined && kinds.length === 1 && kinds[0] !== 'systemd') {
      ctx.addIssue({ code: 'custom', message: `a ${kinds[0]} unit needs a name`, path: [] });
    }
    if (kinds.length === 1 && (kinds[0] === 'systemd' || kinds[0] === 'sqlite_backup')) {
      for (const key of ['env', 'env_file', 'cwd'] as const) {
        if (value[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              kinds[0] === 'systemd'
                ? `${key} has no effect on a systemd unit: the service manager starts it; set Environment=/EnvironmentFile=/WorkingDirectory= in the service instead`
                : `${key} has no effect on a sqlite_backup unit: rearguard copies the database itself`,
          });
        }
      }
    }
    if (value.host !== undefined && value.cwd !== undefined && (kinds[0] === 'run' || kinds[0] === 'shell')) {
      ctx.addIssue({
        code: 'custom',
        path: ['cwd'],
        message: `cwd has no effect with host: a remote ${kinds[0]} unit starts in the login user's home folder; use shell: "cd /dir && ..." instead`,
      });
    }
    if (value.name !== undefined && typeof value.systemd === 'object') {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'a systemd match expands to one unit per service, named after it; remove name',
      });
    }
  });

const stage = z.strictObject({
  name: name,
  level: level.optional().describe('warning: failures in this stage can never make the run critical.'),
  concurrency: z.number().int().min(1).optional().describe('Units run at once in this stage (default: all).'),
  units: z.array(unit).min(1, { error: 'a stage needs at least one unit' }),
});

const host = z.strictObject({
  ssh: z
    .string()
    .regex(/^(?:[A-Za-z0-9_.][A-Za-z0-9_.-]*@)?[A-Za-z0-9_.:[\]][A-Za-z0-9_.:[\]-]*$/, {
      error: 'expected [user@]host where neither starts with "-"',
    }),
  port: z.number().int().min(1).max(65535).optional(),
  identity_file: z.string().min(1).optional(),
  known_hosts: z.string().min(1).optional(),
  connect_timeout: duration.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  concurrency: z.number().int().min(1).optional(),
  ssh_options: z
    .record(z.string(), z.string())
    .superRefine((options, ctx) => {
      for (const [key, value] of Object.entries(options)) {
        const reason = findUnsafeSshOption(key, value);
        if (reason) ctx.addIssue({ code: 'custom', path: [key], message: `refused ssh option ${key}=${value}: ${reason}` });
      }
    })
    .optional()
    .describe('Extra -o options; host-key checking cannot be turned off.'),
});

const preflight = z.union([
  z.strictObject({
    disk: z.string().min(1),
    min_free: z.union([size, z.string().regex(/^\d+(?:\.\d+)?x$/, { error: 'expected a multiple like "2x"' })]),
    level: level.optional(),
  }),
  z.strictObject({
    command: argv,
    timeout: duration.optional(),
    level: level.optional(),
  }),
  z.strictObject({
    reachable: hostRef,
    min_free: z.strictObject({ path: z.string().min(1), size }).optional(),
    level: level.optional(),
  }),
  z.strictObject({
    idle: z.array(z.string().min(1)).min(1),
    host: hostRef.optional(),
    level: level.optional(),
  }),
]);

/** The schema of a rearguard.yml file. */
export const configSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors.'),
    version: z.literal(1),
    state_dir: z.string().min(1).optional().describe('Lock, history and run logs (default ./.rearguard).'),
    defaults: z
      .strictObject({
        timeout: duration.optional(),
        kill_grace: duration.optional(),
        systemctl: argv.optional(),
        retry_delay: duration.optional(),
      })
      .optional(),
    hosts: z.record(name, host).optional(),
    preflight: z.array(preflight).optional(),
    stages: z.array(stage).min(1, { error: 'a config needs at least one stage: "nothing to do" never passes the gate' }),
    gate: z.strictObject({ max_failure_ratio: z.number().gt(0).max(1).optional() }).optional(),
    report: z.strictObject({ json: z.string().min(1).optional(), junit: z.string().min(1).optional() }).optional(),
    metrics: z
      .strictObject({
        pushgateway: z
          .strictObject({
            url: z.url(),
            job: z.string().min(1).optional(),
            labels: z
              .record(
                z
                  .string()
                  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: 'expected a Prometheus label name' })
                  .refine((key) => key !== 'job' && key !== 'command', {
                    error: '"job" and "command" are set by rearguard in the grouping key; choose another label name',
                  }),
                z.string(),
              )
              .optional(),
            timeout: duration.optional(),
          })
          .optional(),
        textfile: z.string().min(1).optional(),
      })
      .optional(),
    notify: z
      .array(
        z.strictObject({
          webhook: z.url(),
          on: z.array(verdict).min(1).optional(),
          timeout: duration.optional(),
          retries: z.number().int().min(0).max(10).optional(),
        }),
      )
      .optional(),
  })
  .superRefine((config, ctx) => {
    const hosts = new Set(Object.keys(config.hosts ?? {}));
    const seen = new Map<string, string>();
    config.stages.forEach((stageValue, s) => {
      stageValue.units.forEach((unitValue, u) => {
        const unitName = unitValue.name ?? (typeof unitValue.systemd === 'string' ? unitValue.systemd : undefined);
        if (unitName !== undefined) {
          const previous = seen.get(unitName);
          if (previous) {
            ctx.addIssue({
              code: 'custom',
              path: ['stages', s, 'units', u, 'name'],
              message: `unit name "${unitName}" is already used at ${previous}; unit names must be unique`,
            });
          } else {
            seen.set(unitName, `stages[${s}].units[${u}]`);
          }
        }
        const refs: Array<[string | undefined, Array<string | number>]> = [[unitValue.host, ['host']]];
        unitValue.artifacts?.forEach((a, i) => {
          for (const kind of SOURCE_KINDS) {
            const own = (a as Record<string, unknown>)[kind];
            if (typeof own === 'object' && own !== null && typeof (own as { host?: unknown }).host === 'string') {
              refs.push([(own as { host: string }).host, ['artifacts', i, kind, 'host']]);
            }
          }
          refs.push([a.offsite?.host, ['artifacts', i, 'offsite', 'host']]);
          refs.push([a.upload?.host, ['artifacts', i, 'upload', 'host']]);
        });
        for (const [ref, rel] of refs) {
          if (ref !== undefined && !hosts.has(ref)) {
            ctx.addIssue({
              code: 'custom',
              path: ['stages', s, 'units', u, ...rel],
              message: `expected the name of an entry of hosts (${[...hosts].join(', ') || 'none defined'}), got "${ref}"`,
            });
          }
        }
      });
    });
    config.preflight?.forEach((item, i) => {
      const ref = 'reachable' in item ? item.reachable : 'idle' in item ? item.host : undefined;
      const key = 'reachable' in item ? 'reachable' : 'host';
      if (ref !== undefined && !hosts.has(ref)) {
        ctx.addIssue({
          code: 'custom',
          path: ['preflight', i, key],
          message: `expected the name of an entry of hosts (${[...hosts].join(', ') || 'none defined'}), got "${ref}"`,
        });
      }
    });
  });

/** The config as written, after schema validation. */
export type RawConfig = z.infer<typeof configSchema>;
export type RawUnit = RawConfig['stages'][number]['units'][number];
export type RawPreflight = NonNullable<RawConfig['preflight']>[number];
export type RawHost = NonNullable<RawConfig['hosts']>[string];

/** The JSON Schema of the config, for editors and `rearguard config schema`. */
export function buildJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://rearguard.dev/schema/rearguard.schema.json',
    title: 'rearguard.yml',
    description: 'Configuration of rearguard, the pre-deployment backup orchestrator and verifier.',
  };
}

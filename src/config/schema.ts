// The config schema (zod): the single source of validation rules and of `config schema`.
import { z } from 'zod';
import { argvSchema, durationSchema, hostRefSchema, levelSchema, sizeSchema } from '../contract/schema-parts.js';
import { findUnsafeSshOption } from '../exec/ssh-options.js';
import type { ArtifactKinds } from './kinds.js';

const duration = durationSchema;
const size = sizeSchema;
const level = levelSchema;
const argv = argvSchema;
const hostRef = hostRefSchema;
const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$/, {
    error: 'expected a name of letters, digits and _ . @ : + - (it names log files)',
  });
const verdict = z.enum(['ok', 'partial', 'critical']);

/** An artifact as written: its level, one source kind's key, and the keys its checks own (typed by their owners). */
export type RawArtifact = { level?: 'error' | 'warning' } & { readonly [key: string]: unknown };

/**
 * The artifact schema from the registries' fragments: exactly one source kind, the keys that checks
 * and actions own, and `level`. Typed as RawArtifact: the keys are only known at run time.
 */
function buildArtifactSchema(kinds: ArtifactKinds): z.ZodType<RawArtifact> {
  const sourceKinds = Object.keys(kinds.sources);
  const shape: Record<string, z.ZodType> = {};
  for (const [kind, source] of Object.entries(kinds.sources)) if (source) shape[kind] = source.config.schema.optional();
  shape.level = level.optional().describe("Default level of this artifact's checks.");
  for (const key of kinds.keys) shape[key.key] = key.schema.optional();
  return z.strictObject(shape).superRefine((value, ctx) => {
    const found = sourceKinds.filter((kind) => value[kind] !== undefined);
    if (found.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `an artifact is exactly one of ${sourceKinds.join(', ')}; found ${found.length === 0 ? 'none' : found.join(' and ')}`,
      });
    }
  });
}

const schemas = new WeakMap<ArtifactKinds, ReturnType<typeof createConfigSchema>>();

/** The schema of a rearguard.yml file, with the artifact kinds and keys of the registries (built once per kinds). */
export function buildConfigSchema(kinds: ArtifactKinds): ReturnType<typeof createConfigSchema> {
  let schema = schemas.get(kinds);
  if (!schema) {
    schema = createConfigSchema(kinds);
    schemas.set(kinds, schema);
  }
  return schema;
}

function createConfigSchema(kinds: ArtifactKinds) {
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
      log_max: size.optional().describe('Largest unit log kept: past it the middle is dropped, head and tail kept (default 64MiB).'),
      critical: z.boolean().optional(),
      level: level.optional(),
      if_running: z.enum(['wait', 'skip', 'fail']).optional(),
      artifacts: z.array(buildArtifactSchema(kinds)).optional(),
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

  const configSchema = z
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
          log_max: size.optional().describe('Largest unit log kept (default 64MiB); head and tail are kept.'),
          leftovers: z
            .enum(['stop', 'refuse'])
            .optional()
            .describe('Processes a killed run left running: stop them before starting (default) or refuse to run, exit 2.'),
          cgroups: z.boolean().optional().describe('Contain each unit in a cgroup where the kernel allows (default true).'),
        })
        .optional(),
      keep_runs: z
        .strictObject({
          count: z.number().int().min(1).optional().describe('Run folders kept (default 50).'),
          max_age: duration.optional().describe('Run folders older than this are removed (default 90d).'),
        })
        .optional()
        .describe('How many run folders (logs, reports) state_dir/runs keeps.'),
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
            // Any key of an artifact (a source's or a check's) whose value names a host.
            for (const [key, own] of Object.entries(a)) {
              if (typeof own === 'object' && own !== null && typeof (own as { host?: unknown }).host === 'string') {
                refs.push([(own as { host: string }).host, ['artifacts', i, key, 'host']]);
              }
            }
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
  return configSchema;
}

/** The config as written, after schema validation. */
export type RawConfig = z.infer<ReturnType<typeof createConfigSchema>>;
export type RawUnit = RawConfig['stages'][number]['units'][number];
export type RawPreflight = NonNullable<RawConfig['preflight']>[number];
export type RawHost = NonNullable<RawConfig['hosts']>[string];

/** The JSON Schema of the config, for editors and `rearguard config schema`. */
export function buildJsonSchema(kinds: ArtifactKinds): Record<string, unknown> {
  const schema = z.toJSONSchema(buildConfigSchema(kinds), { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://rearguard.dev/schema/rearguard.schema.json',
    title: 'rearguard.yml',
    description: 'Configuration of rearguard, the pre-deployment backup orchestrator and verifier.',
  };
}

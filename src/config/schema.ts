// The config schema (zod): the single source of validation rules and of `config schema`.
import * as z from '../contract/zod.js';
import { argvSchema, durationSchema, hostRefSchema, levelSchema, sizeSchema, textSchema } from '../contract/schema-parts.js';
import { findUnsafeSshOption } from '../exec/ssh-options.js';
import type { ArtifactKinds } from './kinds.js';

const duration = durationSchema;
const size = sizeSchema;
const level = levelSchema;
const argv = argvSchema;
const hostRef = hostRefSchema;
const text = textSchema;
const name = z.string().check(
  z.regex(/^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$/, {
    error: 'expected a name of letters, digits and _ . @ : + - (it names log files)',
  }),
);
const verdict = z.enum(['ok', 'partial', 'critical']);
// Pushgateway and webhooks are reached over HTTP: another scheme would only fail at delivery, after the run.
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** An artifact as written: its level, one source kind's key, and the keys its checks own (typed by their owners). */
export type RawArtifact = { level?: 'error' | 'warning' } & { readonly [key: string]: unknown };

/**
 * The artifact schema from the registries' fragments: exactly one source kind, the keys that checks
 * and actions own, and `level`. Typed as RawArtifact: the keys are only known at run time.
 */
function buildArtifactSchema(kinds: ArtifactKinds): z.ZodMiniType<RawArtifact> {
  const sourceKinds = Object.keys(kinds.sources);
  const shape: Record<string, z.ZodMiniType> = {};
  for (const [kind, source] of Object.entries(kinds.sources)) if (source) shape[kind] = z.optional(source.config.schema);
  shape.level = z.optional(level).check(z.describe("Default level of this artifact's checks."));
  for (const key of kinds.keys) shape[key.key] = z.optional(key.schema);
  return z.strictObject(shape).check(
    z.superRefine((value, ctx) => {
      const found = sourceKinds.filter((kind) => value[kind] !== undefined);
      if (found.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          message: `an artifact is exactly one of ${sourceKinds.join(', ')}; found ${found.length === 0 ? 'none' : found.join(' and ')}`,
        });
      }
    }),
  );
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
    match: textSchema.check(z.describe('A glob over service names, e.g. "restic-backup-*.service".')),
    exclude: z.optional(z.array(text)),
  });
  const retries = z.optional(z.int().check(z.gte(0), z.lte(10)));

  const unit = z
    .strictObject({
      name: z.optional(name),
      run: z.optional(argv),
      shell: z.optional(text).check(z.describe('Explicit opt-in to /bin/sh -c.')),
      systemd: z.optional(z.union([text, systemdMatch])),
      sqlite_backup: z.optional(z.strictObject({ source: text, dest: text })),
      host: z.optional(hostRef),
      cwd: z.optional(text),
      env: z.optional(z.record(z.string(), z.string())),
      env_file: z.optional(text),
      timeout: z.optional(duration),
      kill_grace: z.optional(duration),
      retries,
      retry_delay: z.optional(duration),
      log_max: z.optional(size).check(z.describe('Largest unit log kept: past it the middle is dropped, head and tail kept (default 64MiB).')),
      critical: z.optional(z.boolean()),
      level: z.optional(level),
      if_running: z.optional(z.enum(['wait', 'skip', 'fail'])),
      artifacts: z.optional(z.array(buildArtifactSchema(kinds))),
    })
    .check(
      z.superRefine((value, ctx) => {
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
      }),
    );

  const stage = z.strictObject({
    name: name,
    level: z.optional(level).check(z.describe('warning: failures in this stage can never make the run critical.')),
    concurrency: z.optional(z.int().check(z.gte(1))).check(z.describe('Units run at once in this stage (default: all).')),
    units: z.array(unit).check(z.minLength(1, { error: 'a stage needs at least one unit' })),
  });

  const host = z.strictObject({
    ssh: z.string().check(
      z.regex(/^(?:[A-Za-z0-9_.][A-Za-z0-9_.-]*@)?[A-Za-z0-9_.:[\]][A-Za-z0-9_.:[\]-]*$/, {
        error: 'expected [user@]host where neither starts with "-"',
      }),
    ),
    port: z.optional(z.int().check(z.gte(1), z.lte(65535))),
    identity_file: z.optional(text),
    known_hosts: z.optional(text),
    connect_timeout: z.optional(duration),
    retries,
    concurrency: z.optional(z.int().check(z.gte(1))),
    ssh_options: z
      .optional(
        z.record(z.string(), z.string()).check(
          z.superRefine((options, ctx) => {
            for (const [key, value] of Object.entries(options)) {
              const reason = findUnsafeSshOption(key, value);
              if (reason) ctx.addIssue({ code: 'custom', path: [key], message: `refused ssh option ${key}=${value}: ${reason}` });
            }
          }),
        ),
      )
      .check(z.describe('Extra -o options; host-key checking cannot be turned off.')),
  });

  const preflight = z.union([
    z.strictObject({
      disk: text,
      min_free: z.union([size, z.string().check(z.regex(/^\d+(?:\.\d+)?x$/, { error: 'expected a multiple like "2x"' }))]),
      level: z.optional(level),
    }),
    z.strictObject({
      command: argv,
      timeout: z.optional(duration),
      level: z.optional(level),
    }),
    z.strictObject({
      reachable: hostRef,
      min_free: z.optional(z.strictObject({ path: text, size })),
      level: z.optional(level),
    }),
    z.strictObject({
      idle: z.array(text).check(z.minLength(1)),
      host: z.optional(hostRef),
      level: z.optional(level),
    }),
  ]);

  const configSchema = z
    .strictObject({
      $schema: z.optional(z.string()).check(z.describe('Path or URL of this JSON Schema, for editors.')),
      version: z.literal(1),
      state_dir: z.optional(text).check(z.describe('Lock, history and run logs (default ./.rearguard).')),
      defaults: z.optional(
        z.strictObject({
          timeout: z.optional(duration),
          kill_grace: z.optional(duration),
          systemctl: z.optional(argv),
          retry_delay: z.optional(duration),
          log_max: z.optional(size).check(z.describe('Largest unit log kept (default 64MiB); head and tail are kept.')),
          leftovers: z
            .optional(z.enum(['stop', 'refuse']))
            .check(z.describe('Processes a killed run left running: stop them before starting (default) or refuse to run, exit 2.')),
          cgroups: z.optional(z.boolean()).check(z.describe('Contain each unit in a cgroup where the kernel allows (default true).')),
        }),
      ),
      keep_runs: z
        .optional(
          z.strictObject({
            count: z.optional(z.int().check(z.gte(1))).check(z.describe('Run folders kept (default 50).')),
            max_age: z.optional(duration).check(z.describe('Run folders older than this are removed (default 90d).')),
          }),
        )
        .check(z.describe('How many run folders (logs, reports) state_dir/runs keeps.')),
      hosts: z.optional(z.record(name, host)),
      preflight: z.optional(z.array(preflight)),
      stages: z.array(stage).check(z.minLength(1, { error: 'a config needs at least one stage: "nothing to do" never passes the gate' })),
      gate: z.optional(z.strictObject({ max_failure_ratio: z.optional(z.number().check(z.gt(0), z.lte(1))) })),
      report: z.optional(z.strictObject({ json: z.optional(text), junit: z.optional(text) })),
      metrics: z.optional(
        z.strictObject({
          pushgateway: z.optional(
            z.strictObject({
              url: httpUrl,
              job: z.optional(text),
              labels: z.optional(
                z.record(
                  z.string().check(
                    z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: 'expected a Prometheus label name' }),
                    z.refine((key) => key !== 'job' && key !== 'command', {
                      error: '"job" and "command" are set by rearguard in the grouping key; choose another label name',
                    }),
                  ),
                  z.string(),
                ),
              ),
              timeout: z.optional(duration),
            }),
          ),
          textfile: z.optional(text),
        }),
      ),
      notify: z.optional(
        z.array(
          z.strictObject({
            webhook: httpUrl,
            on: z.optional(z.array(verdict).check(z.minLength(1))),
            timeout: z.optional(duration),
            retries,
          }),
        ),
      ),
    })
    .check(
      z.superRefine((config, ctx) => {
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
      }),
    );
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

// Turns a validated RawConfig plus CLI options into a ResolvedConfig (pure).
import path from 'node:path';
import { parseDuration } from '../util/duration.js';
import { parseSize } from '../util/size.js';
import type { ArtifactKinds } from './kinds.js';
import type { RawArtifact, RawConfig, RawHost, RawPreflight, RawUnit } from './schema.js';
import type {
  Level,
  ResolvedArtifact,
  ResolvedConfig,
  ResolvedHost,
  ResolvedPreflight,
  ResolvedUnit,
  RunOptions,
  UnitAction,
} from './types.js';

/** Facts about the environment that normalisation needs; passed in so it stays pure. */
export interface NormalizeContext {
  file: string;
  home: string;
  env: Record<string, string>;
  options: RunOptions;
  /** The artifact kinds and keys of the registries. */
  kinds: ArtifactKinds;
}

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;

/** Builds the ResolvedConfig; every relative path is taken from the config file's folder. */
export function normalizeConfig(raw: RawConfig, context: NormalizeContext): ResolvedConfig {
  const dir = path.dirname(context.file);
  const resolvePath = (p: string): string => resolveLocalPath(p, dir, context.home);
  const defaults = {
    timeoutMs: raw.defaults?.timeout ? parseDuration(raw.defaults.timeout) : DEFAULT_TIMEOUT_MS,
    killGraceMs: raw.defaults?.kill_grace ? parseDuration(raw.defaults.kill_grace) : DEFAULT_KILL_GRACE_MS,
    systemctl: raw.defaults?.systemctl ?? ['systemctl'],
    retryDelayMs: raw.defaults?.retry_delay ? parseDuration(raw.defaults.retry_delay) : 5_000,
    logMaxBytes: raw.defaults?.log_max !== undefined ? parseSize(raw.defaults.log_max) : DEFAULT_LOG_MAX_BYTES,
    leftovers: raw.defaults?.leftovers ?? 'stop',
    // The environment switch exists so a host (or a test) can force the process-group fallback.
    cgroups: (raw.defaults?.cgroups ?? true) && context.env.REARGUARD_NO_CGROUPS !== '1',
  };
  const hosts: Record<string, ResolvedHost> = {};
  for (const [name, host] of Object.entries(raw.hosts ?? {})) hosts[name] = normalizeHost(name, host, resolvePath);

  return {
    file: context.file,
    dir,
    stateDir: resolvePath(raw.state_dir ?? './.rearguard'),
    warnings: [],
    keepRuns: {
      count: raw.keep_runs?.count ?? 50,
      maxAgeMs: raw.keep_runs?.max_age ? parseDuration(raw.keep_runs.max_age) : 90 * 24 * 3600_000,
    },
    defaults,
    hosts,
    preflight: (raw.preflight ?? []).map((item) => normalizePreflight(item, resolvePath, defaults.timeoutMs)),
    stages: raw.stages.map((stage) => {
      const stageLevel: Level = stage.level ?? 'error';
      return {
        name: stage.name,
        level: stageLevel,
        ...(stage.concurrency !== undefined && { concurrency: stage.concurrency }),
        units: stage.units.map((unit) => normalizeUnit(unit, stage.name, stageLevel, defaults, dir, resolvePath, context.kinds)),
      };
    }),
    gate: { maxFailureRatio: raw.gate?.max_failure_ratio ?? 0.5 },
    report: {
      ...(raw.report?.json && { json: resolvePath(raw.report.json) }),
      ...(raw.report?.junit && { junit: resolvePath(raw.report.junit) }),
    },
    metrics: {
      ...(raw.metrics?.pushgateway && {
        pushgateway: {
          url: raw.metrics.pushgateway.url,
          job: raw.metrics.pushgateway.job ?? 'rearguard',
          labels: raw.metrics.pushgateway.labels ?? {},
          timeoutMs: raw.metrics.pushgateway.timeout ? parseDuration(raw.metrics.pushgateway.timeout) : 10_000,
        },
      }),
      ...(raw.metrics?.textfile && { textfile: resolvePath(raw.metrics.textfile) }),
    },
    notify: (raw.notify ?? []).map((n) => ({
      url: n.webhook,
      on: n.on ?? ['partial', 'critical'],
      timeoutMs: n.timeout ? parseDuration(n.timeout) : 10_000,
      retries: n.retries ?? 2,
    })),
    env: context.env,
    options: context.options,
  };
}

/** Expands "~/" and makes a local path absolute against `base`. */
export function resolveLocalPath(p: string, base: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return path.resolve(base, p);
}

function normalizeHost(name: string, host: RawHost, resolvePath: (p: string) => string): ResolvedHost {
  return {
    name,
    destination: host.ssh,
    ...(host.port !== undefined && { port: host.port }),
    ...(host.identity_file && { identityFile: resolvePath(host.identity_file) }),
    ...(host.known_hosts && { knownHosts: resolvePath(host.known_hosts) }),
    connectTimeoutMs: host.connect_timeout ? parseDuration(host.connect_timeout) : 10_000,
    retries: host.retries ?? 2,
    ...(host.concurrency !== undefined && { concurrency: host.concurrency }),
    sshOptions: host.ssh_options ?? {},
  };
}

function normalizePreflight(
  item: RawPreflight,
  resolvePath: (p: string) => string,
  defaultTimeoutMs: number,
): ResolvedPreflight {
  const level: Level = item.level ?? 'error';
  if ('disk' in item) {
    const minFree =
      typeof item.min_free === 'string' && item.min_free.endsWith('x')
        ? { multiple: Number(item.min_free.slice(0, -1)) }
        : { bytes: parseSize(item.min_free) };
    return { kind: 'disk', path: resolvePath(item.disk), minFree, level };
  }
  if ('command' in item) {
    return {
      kind: 'command',
      argv: item.command,
      timeoutMs: item.timeout ? parseDuration(item.timeout) : Math.min(defaultTimeoutMs, 5 * 60_000),
      level,
    };
  }
  if ('reachable' in item) {
    return {
      kind: 'reachable',
      host: item.reachable,
      ...(item.min_free && { minFree: { path: item.min_free.path, bytes: parseSize(item.min_free.size) } }),
      level,
    };
  }
  return { kind: 'idle', units: item.idle, ...(item.host && { host: item.host }), level };
}

function normalizeUnit(
  unit: RawUnit,
  stage: string,
  stageLevel: Level,
  defaults: ResolvedConfig['defaults'],
  dir: string,
  resolvePath: (p: string) => string,
  kinds: ArtifactKinds,
): ResolvedUnit {
  let action: UnitAction;
  if (unit.run) action = { kind: 'run', argv: unit.run };
  else if (unit.shell !== undefined) action = { kind: 'shell', script: unit.shell };
  else if (typeof unit.systemd === 'string') action = { kind: 'systemd', service: unit.systemd };
  else if (unit.systemd) action = { kind: 'systemd-match', match: unit.systemd.match, exclude: unit.systemd.exclude ?? [] };
  else if (unit.sqlite_backup) {
    action = {
      kind: 'sqlite_backup',
      source: resolvePath(unit.sqlite_backup.source),
      dest: resolvePath(unit.sqlite_backup.dest),
    };
  } else throw new Error('unreachable: schema guarantees one action');

  const name =
    unit.name ?? (action.kind === 'systemd' ? action.service : action.kind === 'systemd-match' ? action.match : '');
  // A stage at level warning makes all its units warning-level: they can never make the run critical.
  const level: Level = stageLevel === 'warning' ? 'warning' : (unit.level ?? 'error');
  const artifactLevel = (own: Level | undefined): Level => own ?? level;
  return {
    name,
    stage,
    action,
    ...(unit.host && { host: unit.host }),
    cwd: unit.cwd ? resolvePath(unit.cwd) : dir,
    env: unit.env ?? {},
    ...(unit.env_file && { envFile: resolvePath(unit.env_file) }),
    timeoutMs: unit.timeout ? parseDuration(unit.timeout) : defaults.timeoutMs,
    killGraceMs: unit.kill_grace ? parseDuration(unit.kill_grace) : defaults.killGraceMs,
    retries: unit.retries ?? 0,
    retryDelayMs: unit.retry_delay ? parseDuration(unit.retry_delay) : defaults.retryDelayMs,
    logMaxBytes: unit.log_max !== undefined ? parseSize(unit.log_max) : defaults.logMaxBytes,
    critical: stageLevel === 'warning' ? false : (unit.critical ?? false),
    level,
    ifRunning: unit.if_running ?? 'wait',
    artifacts: (unit.artifacts ?? []).map((a) => normalizeArtifact(a, artifactLevel(a.level), kinds, resolvePath)),
  };
}

/** The artifact's source (the one kind key it has, the schema guarantees) with its options, and its name for reports. */
function resolveSource(a: RawArtifact, kinds: ArtifactKinds, resolvePath: (p: string) => string): Pick<ResolvedArtifact, 'pattern' | 'source'> {
  const kind = Object.keys(kinds.sources).find((key) => a[key] !== undefined);
  const source = kind === undefined ? undefined : kinds.sources[kind];
  if (!kind || !source) throw new Error('unreachable: schema guarantees one artifact kind');
  const options: unknown = source.config.resolve(a[kind], { resolvePath, level: 'error' });
  return { pattern: source.name(options), source: { kind, options } };
}

/** An artifact: its source, and each key a check or action owns, resolved by its owner with the artifact's level as default. */
export function normalizeArtifact(a: RawArtifact, level: Level, kinds: ArtifactKinds, resolvePath: (p: string) => string): ResolvedArtifact {
  const options: Record<string, unknown> = {};
  for (const key of kinds.keys) {
    if (a[key.key] !== undefined) options[key.key] = key.resolve(a[key.key], { resolvePath, level });
  }
  return { ...resolveSource(a, kinds, resolvePath), level, options };
}

// Loads, validates and normalises a config in one call: the entry point for commands.
import { checkConfigTrust } from './trust.js';
import type { ArtifactKinds } from './kinds.js';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { loadRawConfig } from './load.js';
import { normalizeConfig } from './normalize.js';
import type { ResolvedConfig, RunOptions } from './types.js';

/** Where the config comes from when -c is not given: ./rearguard.yml, then $REARGUARD_CONFIG. */
export function chooseConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string, exists: (p: string) => boolean): string {
  if (flag) return path.resolve(cwd, flag);
  const local = path.resolve(cwd, 'rearguard.yml');
  if (exists(local)) return local;
  if (env.REARGUARD_CONFIG) return path.resolve(cwd, env.REARGUARD_CONFIG);
  return local;
}

/** Reads the file, validates it and returns the ResolvedConfig; throws ConfigError. */
export async function resolveConfig(file: string, options: RunOptions, env: NodeJS.ProcessEnv, kinds: ArtifactKinds): Promise<ResolvedConfig> {
  const raw = await loadRawConfig(file, kinds);
  const cleanEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) cleanEnv[key] = value;
  let config: ResolvedConfig;
  try {
    config = normalizeConfig(raw, { file, home: env.HOME ?? os.homedir(), env: cleanEnv, options, kinds });
  } catch (error) {
    throw new ConfigError([{ file, path: '', message: (error as Error).message }], { cause: error });
  }
  const trust = checkConfigTrust(config, kinds);
  if (trust.errors.length > 0) throw new ConfigError(trust.errors.map((finding) => ({ file, path: '', message: finding.message })));
  return { ...config, warnings: trust.warnings.map((finding) => finding.message) };
}

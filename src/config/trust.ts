// StrictModes for a config: as root, the files it makes rearguard read or run must not be changeable by other users.
import { programFinder } from '../exec/local.js';
import { checkFileTrust, type TrustedFileKind, type TrustFinding } from '../state/file-trust.js';
import type { ArtifactKinds } from './kinds.js';
import type { ResolvedConfig } from './types.js';

/** What the trust check found: errors refuse the config (exit 2), warnings go into every run's report. */
export interface ConfigTrust {
  errors: TrustFinding[];
  warnings: TrustFinding[];
}

/**
 * Checks the config file, every env_file, every local `run:` program (found on PATH as the unit will find
 * it) and every secret file a source reads. Only when rearguard runs as root (`asRoot` overrides, for tests).
 */
export function checkConfigTrust(config: ResolvedConfig, kinds: ArtifactKinds, asRoot?: boolean): ConfigTrust {
  const files = new Map<string, TrustedFileKind>([[config.file, 'config']]);
  const findProgram = programFinder();
  for (const unit of config.stages.flatMap((stage) => stage.units)) {
    if (unit.envFile) files.set(unit.envFile, 'env_file');
    if (unit.action.kind === 'run' && unit.host === undefined && unit.action.argv[0]) {
      // The unit's PATH, else the run's: read, not merged (a copy of the whole environment per unit was most of this check).
      const program = findProgram(unit.action.argv[0], unit.env.PATH ?? config.env.PATH ?? '/usr/bin:/bin', unit.cwd);
      if (program) files.set(program, 'program');
    }
    for (const artifact of unit.artifacts) {
      const source = kinds.sources[artifact.source.kind];
      for (const secret of source?.secretFiles?.(artifact.source.options) ?? []) files.set(secret, 'secret');
    }
  }
  const findings = [...files].flatMap(([file, kind]) => checkFileTrust(file, kind, asRoot === undefined ? {} : { asRoot }));
  return { errors: findings.filter((f) => f.level === 'error'), warnings: findings.filter((f) => f.level === 'warning') };
}

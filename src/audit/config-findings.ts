// Audit findings about the config itself (pure): units nothing verifies, no restore rules, risky settings.
import type { ResolvedArtifact, ResolvedConfig } from '../config/types.js';
import type { CheckResult } from '../report/types.js';
import { isSecretKey } from '../util/secrets.js';

const warning = (id: string, target: string, message: string): CheckResult => ({
  id,
  target,
  status: 'warning',
  level: 'warning',
  message,
  duration_ms: 0,
});

/** Whether the artifact sets a check's config key. */
function has(artifact: ResolvedArtifact, key: string): boolean {
  return artifact.options[key] !== undefined;
}

function provesIntegrity(artifact: ResolvedArtifact): boolean {
  return ['checksum', 'sqlite', 'archive', 'restore', 'command', 'offsite'].some((key) => has(artifact, key));
}

/**
 * `no-checks`, `no-restore` and `risky-config` findings, all at level warning: they weaken what a green
 * run proves, but none of them means a backup is bad today.
 */
export function judgeConfig(config: ResolvedConfig, excluded: string[] = []): CheckResult[] {
  const findings: CheckResult[] = [];
  for (const stage of config.stages) {
    for (const unit of stage.units) {
      const name = unit.name;
      if (excluded.includes(name)) continue;
      if (unit.artifacts.length === 0) {
        findings.push(warning('no-checks', name, `unit ${name} has no artifacts: a run can only say its process exited 0, not that a backup exists; add artifacts: with max_age and checksum`));
      }
      if (unit.action.kind === 'shell') {
        findings.push(warning('risky-config', name, `unit ${name} runs through /bin/sh -c (shell:): quoting mistakes and values with spaces or ; run as commands; prefer run: [argv]`));
      }
      const inline = Object.keys(unit.env).filter(isSecretKey);
      if (inline.length > 0) {
        findings.push(warning('risky-config', name, `unit ${name} has secret-looking env values written in the config (${inline.join(', ')}): move them to an env_file readable only by root`));
      }
      for (const artifact of unit.artifacts) {
        const where = `${name}: ${artifact.pattern}`;
        if (!provesIntegrity(artifact)) {
          findings.push(warning('no-checks', where, `artifact ${artifact.pattern} of ${name} has no integrity check (checksum, sqlite, archive, restore, command or offsite): a truncated or garbled file would pass`));
        }
        // A SQLite file that passes integrity_check, or a verifying command (pg_restore --list,
        // restic check --read-data), proves restorability as much as restore rules do.
        if (!has(artifact, 'restore') && !has(artifact, 'sqlite') && !has(artifact, 'command')) {
          findings.push(warning('no-restore', where, `artifact ${artifact.pattern} of ${name} has no restore proof (restore rules, sqlite: true or a verifying command): it has never been proven restorable; add restore: and run rearguard restore-test weekly`));
        }
        if (!has(artifact, 'max_age')) {
          findings.push(warning('risky-config', where, `artifact ${artifact.pattern} of ${name} has no max_age: verify and audit cannot tell a stale backup from a fresh one`));
        }
        if (artifact.options.fresh === false) {
          findings.push(warning('risky-config', where, `artifact ${artifact.pattern} of ${name} has fresh: false: orchestrate passes even when the unit wrote nothing new`));
        }
      }
    }
  }
  if (config.gate.maxFailureRatio >= 1) {
    findings.push(warning('risky-config', 'gate.max_failure_ratio', 'gate.max_failure_ratio is 1: unless a critical unit fails, the gate is critical only when every unit failed'));
  }
  return findings;
}

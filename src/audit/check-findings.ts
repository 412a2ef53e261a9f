// `last-check`: each repository artifact's last `check:` result (the tool's own check of its repository), from the recorded run reports (pure).
import type { ResolvedConfig } from '../config/types.js';
import type { Plan } from '../plan/types.js';
import type { CheckResult, RunReport } from '../report/types.js';
import { formatDuration } from '../util/duration.js';
import type { AuditFacts } from './gather.js';

/** The check id the repository check reports under (checks/repository.ts). */
const REPOSITORY_CHECK = 'repository';

/** The newest run that ran `check:` on this artifact of this unit, with that check's result. */
export function findLastCheck(runs: RunReport[], unit: string, pattern: string): { run: RunReport; check: CheckResult } | undefined {
  for (const run of runs) {
    for (const stage of run.stages) {
      for (const result of stage.units) {
        if (result.name !== unit) continue;
        for (const artifact of result.artifacts) {
          if (artifact.pattern !== pattern) continue;
          const check = artifact.checks.find((c) => c.id === REPOSITORY_CHECK && c.status !== 'skipped');
          if (check) return { run, check };
        }
      }
    }
  }
  return undefined;
}

/** Artifacts (by pattern) whose config sets `check:`. */
function checkedPatterns(config: ResolvedConfig): Set<string> {
  const patterns = new Set<string>();
  for (const stage of config.stages) {
    for (const unit of stage.units) for (const artifact of unit.artifacts) if (artifact.options.check !== undefined) patterns.add(artifact.pattern);
  }
  return patterns;
}

/**
 * One finding per planned artifact that has `check:` (or was checked in a recent run): when and how its last
 * check ended. A failed last check, or none in the recent runs, is a warning: audit runs no check itself.
 */
export function judgeLastChecks(config: ResolvedConfig, plan: Plan, facts: AuditFacts): CheckResult[] {
  const configured = checkedPatterns(config);
  const findings: CheckResult[] = [];
  for (const stage of plan.stages) {
    for (const unit of stage.units) {
      for (const artifact of unit.artifacts) {
        const target = `${unit.name}: ${artifact.pattern}`;
        const last = findLastCheck(facts.runs, unit.name, artifact.pattern);
        if (!last) {
          if (!configured.has(artifact.pattern)) continue;
          findings.push({
            id: 'last-check',
            target,
            status: 'warning',
            level: 'warning',
            message: `${target}: no check: result in the last ${facts.runs.length} run(s); run rearguard verify to check the repository`,
            duration_ms: 0,
          });
          continue;
        }
        const age = formatDuration(Math.max(0, facts.now - Date.parse(last.run.finished_at)));
        const message = `${target}: last check ${last.check.status} ${age} ago (run ${last.run.run_id}, ${last.run.command}): ${last.check.message}`;
        findings.push({
          id: 'last-check',
          target,
          status: last.check.status === 'ok' ? 'ok' : 'warning',
          level: 'warning',
          message,
          ...(last.check.details && last.check.details.length > 0 && { details: last.check.details }),
          duration_ms: 0,
        });
      }
    }
  }
  return findings;
}

// The audit's gate (pure): the same 0/1/2 rules as a run, with audit findings in place of pre-flight.
import type { Verdict } from '../config/types.js';
import { decideVerdict, EXIT_CODES, type GateDecision } from '../engine/verdict.js';
import type { CheckResult, StageResult } from '../report/types.js';

/** What the audit gate looks at. */
export interface AuditGateInput {
  findings: CheckResult[];
  stages: StageResult[];
  planned: number;
  maxFailureRatio: number;
}


function summarise(findings: CheckResult[]): string {
  const byId = new Map<string, number>();
  for (const finding of findings) byId.set(finding.id, (byId.get(finding.id) ?? 0) + 1);
  return [...byId].map(([id, n]) => `${n} ${id}`).join(', ');
}

/**
 * Units are judged exactly as `verify` judges them (critical units, failure ratio); a finding failed at
 * level error makes the audit critical; warning findings make it at least partial.
 */
export function decideAuditVerdict(input: AuditGateInput): GateDecision {
  const units = decideVerdict({ preflight: [], stages: input.stages, maxFailureRatio: input.maxFailureRatio, planned: input.planned, warnings: [] });
  const errors = input.findings.filter((f) => f.status === 'failed');
  const warnings = input.findings.filter((f) => f.status === 'warning');
  const decide = (verdict: Verdict, reason: string): GateDecision => ({ ...units, verdict, exitCode: EXIT_CODES[verdict], reason });
  const unitPart = units.verdict === 'ok' ? '' : `; units: ${units.reason}`;
  if (errors.length > 0) {
    const first = errors.slice(0, 2).map((f) => `${f.id}: ${f.message}`).join('; ');
    return decide('critical', `audit found ${errors.length} error(s) (${summarise(errors)}): ${first}${unitPart}`);
  }
  if (units.verdict === 'critical') return decide('critical', units.reason);
  const notes = warnings.length > 0 ? `audit warnings: ${summarise(warnings)}` : '';
  if (units.verdict === 'partial') return decide('partial', [units.reason, notes].filter(Boolean).join('; '));
  if (warnings.length > 0) return decide('partial', `${notes} (see the findings); ${units.reason}`);
  const passed = input.findings.filter((f) => f.status === 'ok').length;
  return decide('ok', `${units.reason}; ${passed} audit finding(s) ok`);
}

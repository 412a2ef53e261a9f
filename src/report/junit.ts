// JUnit XML: one testsuite per stage plus pre-flight; one testcase per unit and per check.
import junitModule, { type Builder, type TestSuite } from 'junit-report-builder';
import { writeReportText } from './json.js';
import type { CheckResult, RunReport, UnitResult } from './types.js';

// The package is CommonJS whose module.exports is the builder; its typings describe an ES default export.
const junit = junitModule as unknown as Builder;

function addCheck(suite: TestSuite, className: string, check: CheckResult): void {
  const testCase = suite.testCase().className(className).name(`${check.id} ${check.target}`).time(check.duration_ms / 1000);
  const text = [check.message, ...(check.details ?? [])].join('\n');
  if (check.status === 'failed') testCase.failure(check.message, check.id).standardError(text);
  else if (check.status === 'skipped') testCase.skipped().standardOutput(text);
  else testCase.standardOutput(check.status === 'warning' ? `warning: ${text}` : text);
}

function addUnit(suite: TestSuite, stage: string, unit: UnitResult): void {
  const testCase = suite.testCase().className(`rearguard.${stage}`).name(unit.name).time(unit.duration_ms / 1000);
  const detail = [unit.message, ...(unit.log ? [`log: ${unit.log}`] : []), ...(unit.log_tail ?? [])].join('\n');
  if (unit.status === 'failed' || unit.status === 'timeout') {
    testCase.failure(`${unit.status}: ${unit.message}`, unit.status).standardError(detail);
  } else if (unit.status === 'skipped') {
    testCase.skipped().standardOutput(detail);
  } else {
    testCase.standardOutput(detail);
  }
  for (const artifact of unit.artifacts) {
    for (const check of artifact.checks) addCheck(suite, `rearguard.${stage}.${unit.name}`, check);
  }
}

/** Renders the report as JUnit XML. */
export function renderJunit(report: RunReport): string {
  const builder = junit.newBuilder().name(`rearguard ${report.command}`);
  if (report.preflight.length > 0) {
    const suite = builder.testSuite().name('pre-flight').timestamp(report.started_at);
    for (const check of report.preflight) addCheck(suite, 'rearguard.preflight', check);
  }
  for (const stage of report.stages) {
    const suite = builder.testSuite().name(stage.name).timestamp(report.started_at);
    for (const unit of stage.units) addUnit(suite, stage.name, unit);
  }
  const verdict = builder.testSuite().name('verdict');
  const gate = verdict.testCase().className('rearguard.gate').name(`verdict ${report.verdict}`);
  if (report.exit_code !== 0) gate.failure(`${report.verdict}: ${report.reason}`, report.verdict);
  else gate.standardOutput(report.reason);
  return builder.build();
}

/** Writes the JUnit XML to `file` atomically ("-": stdout). */
export async function writeJunit(file: string, report: RunReport): Promise<void> {
  await writeReportText(file, renderJunit(report));
}

// Delivers a finished run, in one place and order: notifications, metrics, report files, the run's own record.
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import type { PlanEffects } from '../plan/types.js';
import { writeReportFiles } from '../report/assemble.js';
import { writeJsonReport } from '../report/json.js';
import type { RunReport } from '../report/types.js';

/** Where and how a run is delivered, and how to tell the user about problems doing so. */
export interface DeliveryTargets {
  config: ResolvedConfig;
  effects: PlanEffects;
  runId: string;
  warn: (message: string) => void;
}

/**
 * Delivers the report that `build` makes: webhooks, metrics, report files. A delivery that fails is a
 * warning that makes the run at least partial, so the report is built again with it for what is
 * delivered next, and every receiver ends up with the final status. Returns the final report.
 */
export async function deliverRun(build: (deliveryWarnings: string[]) => RunReport, targets: DeliveryTargets): Promise<RunReport> {
  const { config, effects } = targets;
  const problems: string[] = [];
  let report = build(problems);
  // The run's own record is state, kept first: a state_dir that cannot take it makes the run partial before
  // any receiver hears of it (`audit` and `history` read the last runs from there).
  const record = path.join(config.stateDir, 'runs', targets.runId, 'report.json');
  const keepRecord = (r: RunReport): Promise<string[]> =>
    writeJsonReport(record, r).then(
      () => [],
      (error: Error) => [`could not keep the report in state_dir/runs/${targets.runId}: ${error.message}`],
    );
  if (effects.runRecord) addProblems(await keepRecord(report));
  const recorded = report;
  if (effects.deliver) {
    // Metrics and webhooks load only for runs that deliver (not for plan or audit), and only when the
    // config has somewhere to deliver them: a run without them does not pay for their code.
    const hasMetrics = Boolean(config.metrics.pushgateway || config.metrics.textfile);
    const [metrics, webhooks] = await Promise.all([
      hasMetrics ? import('../report/metrics.js') : undefined,
      config.notify.length > 0 ? import('../report/notify.js') : undefined,
    ]);
    // Webhooks first: a failed delivery makes the run partial before any metric says otherwise, so the
    // metrics (and last_success, which only an ok run sets) carry the final status.
    const notify = async (r: RunReport): Promise<string[]> =>
      webhooks ? webhooks.sendNotifications(r, config).catch((error: Error) => [`notify: ${error.message}`]) : [];
    const afterNotify = addProblems(await notify(report));
    if (metrics) addProblems(await metrics.publishMetrics(afterNotify, config).catch((error: Error) => [`metrics: ${error.message}`]));
    // A failed push changed the verdict after the webhooks went out: they are told the final one too.
    if (report.verdict !== afterNotify.verdict) addProblems(await notify(report));
  }
  const files = effects.deliver
    ? { json: config.options.jsonPath ?? config.report.json, junit: config.options.junitPath ?? config.report.junit }
    : { json: config.options.jsonPath, junit: config.options.junitPath };
  await writeReportFiles(report, files, targets.warn);
  // The record was kept before delivery; it is kept again when delivery changed the report.
  if (effects.runRecord && report !== recorded) for (const problem of await keepRecord(report)) targets.warn(problem);
  return report;

  function addProblems(found: string[]): RunReport {
    for (const problem of found) targets.warn(problem);
    if (found.length > 0) {
      problems.push(...found);
      report = build(problems);
    }
    return report;
  }
}

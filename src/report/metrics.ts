// Prometheus metrics of a run: pushed to a Pushgateway and/or written to a node_exporter textfile, on every path.
import type { ResolvedConfig } from '../config/types.js';
import { redactUrl } from '../util/secrets.js';
import { renderExposition } from './metrics-exposition.js';
import { pushExposition } from './metrics-push.js';
import { collectMetricSamples } from './metrics-samples.js';
import { writeMetricsTextfile } from './metrics-textfile.js';
import type { RunReport } from './types.js';

/**
 * Pushes and writes the run's metrics; returns warnings for what could not be delivered (never throws, never hangs:
 * the push is bounded by metrics.pushgateway.timeout). The Pushgateway goes first, so that when it fails the
 * textfile already shows the run as at least partial, as the final verdict will.
 */
export async function publishMetrics(report: RunReport, config: ResolvedConfig): Promise<string[]> {
  const warnings: string[] = [];
  const { pushgateway, textfile } = config.metrics;
  if (pushgateway) {
    for (const name of Object.keys(pushgateway.labels).filter((key) => key === 'job' || key === 'command')) {
      warnings.push(
        `metrics: metrics.pushgateway.labels.${name} of ${redactUrl(pushgateway.url)} is ignored: "${name}" is part of the grouping key rearguard sets itself; remove it from the config`,
      );
    }
    const body = await renderExposition(collectMetricSamples(report));
    const failure = await pushExposition(body, pushgateway, report.command);
    if (failure) warnings.push(failure);
  }
  if (textfile) {
    const samples = collectMetricSamples(report, { minStatus: warnings.length > 0 ? 1 : 0 });
    warnings.push(...(await writeMetricsTextfile(textfile, samples, report.command)));
  }
  return warnings;
}

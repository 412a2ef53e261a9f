// Prometheus metrics of a run: Pushgateway and node_exporter textfile.
import type { ResolvedConfig } from '../config/types.js';
import type { RunReport } from './types.js';

/** Pushes and writes the run's metrics; returns warnings for what could not be delivered. */
export async function publishMetrics(report: RunReport, config: ResolvedConfig): Promise<string[]> {
  const warnings: string[] = [];
  if (config.metrics.pushgateway || config.metrics.textfile) {
    warnings.push(`metrics are configured but not yet delivered by this build (run ${report.run_id})`);
  }
  return warnings;
}

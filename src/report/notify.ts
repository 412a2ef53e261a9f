// Webhook notifications of the run's JSON summary.
import type { ResolvedConfig } from '../config/types.js';
import type { RunReport } from './types.js';

/** Sends the configured webhooks for this verdict; returns warnings for failed deliveries. */
export async function sendNotifications(report: RunReport, config: ResolvedConfig): Promise<string[]> {
  return config.notify.filter((n) => n.on.includes(report.verdict)).map((n) => `webhook ${n.url} not sent: not yet supported by this build`);
}

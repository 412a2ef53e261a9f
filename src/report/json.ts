// The JSON report (rearguard.report/v1), written atomically.
import { writeFileAtomic } from '../state/atomic.js';
import type { RunReport } from './types.js';

/** Serialises the report as stable, indented JSON. */
export function renderJsonReport(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Writes the report to `file` atomically. */
export async function writeJsonReport(file: string, report: RunReport): Promise<void> {
  await writeFileAtomic(file, renderJsonReport(report));
}

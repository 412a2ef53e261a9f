// The JSON report (rearguard.report/v1), written atomically, or to stdout when the path is "-".
import { writeFileAtomic } from '../state/atomic.js';
import type { RunReport } from './types.js';

/** The path that means "standard output" for --json and --junit. */
export const STDOUT_PATH = '-';

/** Serialises the report as stable, indented JSON. */
export function renderJsonReport(report: RunReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Writes `text` to `file` atomically, or to stdout for "-" (resolved once the stream has taken it). */
export async function writeReportText(file: string, text: string): Promise<void> {
  if (file !== STDOUT_PATH) return writeFileAtomic(file, text);
  // A closed stdout must not turn into an unhandled error; the write callback reports it instead.
  const line = text.endsWith('\n') ? text : `${text}\n`;
  await new Promise<void>((resolve, reject) => process.stdout.write(line, (error) => (error ? reject(error) : resolve())));
}

/** Writes the report to `file` atomically ("-": stdout). */
export async function writeJsonReport(file: string, report: RunReport): Promise<void> {
  await writeReportText(file, renderJsonReport(report));
}

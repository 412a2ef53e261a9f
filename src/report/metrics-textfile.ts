// node_exporter textfile output: the same metrics, merged with the file's other commands, written atomically.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../state/atomic.js';
import { parseExposition, renderExposition } from './metrics-exposition.js';
import { COMMAND_LABEL, type MetricSample } from './metrics-samples.js';

/**
 * Merges a run's samples into the previous file's, with the Pushgateway's POST rule applied per command:
 * a family this run emits replaces that command's old samples of it; every other sample is kept.
 * So `last_success` survives a failed run, and `verify` does not erase `orchestrate`.
 */
export function mergeSamples(previous: MetricSample[], current: MetricSample[], command: string): MetricSample[] {
  const replaced = new Set(current.map((sample) => sample.name));
  const kept = previous.filter((sample) => !(sample.labels[COMMAND_LABEL] === command && replaced.has(sample.name)));
  return [...kept, ...current];
}

async function readPrevious(file: string): Promise<{ samples: MetricSample[]; warning?: string }> {
  try {
    return { samples: parseExposition(await readFile(file, 'utf8')) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { samples: [] };
    return {
      samples: [],
      warning: `metrics: could not read the previous textfile ${file} (${code ?? (error as Error).message}); the last-success time of earlier runs is lost from it`,
    };
  }
}

/**
 * Writes the run's samples to `file` for node_exporter's textfile collector (temp file in the same folder,
 * fsync, rename, mode 0644). Returns warnings; never throws.
 */
export async function writeMetricsTextfile(file: string, samples: MetricSample[], command: string): Promise<string[]> {
  const warnings: string[] = [];
  const previous = await readPrevious(file);
  if (previous.warning) warnings.push(previous.warning);
  try {
    const text = await renderExposition(mergeSamples(previous.samples, samples, command));
    await writeFileAtomic(file, text, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    warnings.push(
      `metrics: could not write the textfile ${file}: ${code ? `${code}: ` : ''}${(error as Error).message}; ` +
        'node_exporter keeps showing the previous run: check that the folder exists and is writable (metrics.textfile)',
    );
  }
  return warnings;
}

// Renders samples in the Prometheus text exposition format with prom-client, and reads our own files back.
import { Gauge, Registry } from 'prom-client';
import { METRIC_FAMILIES, type MetricSample } from './metrics-samples.js';

/** The Content-Type of the text exposition format, as the Pushgateway expects it. */
export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

function hasExactLabels(sample: MetricSample, labelNames: readonly string[]): boolean {
  const keys = Object.keys(sample.labels);
  return keys.length === labelNames.length && labelNames.every((name) => name in sample.labels);
}

/**
 * Renders samples of rearguard's families (others are dropped). Families without a sample are left out
 * entirely, so a push never replaces a family with nothing.
 */
export async function renderExposition(samples: MetricSample[]): Promise<string> {
  const registry = new Registry();
  for (const family of METRIC_FAMILIES) {
    const own = samples.filter((sample) => sample.name === family.name && hasExactLabels(sample, family.labelNames));
    if (own.length === 0) continue;
    const gauge = new Gauge({ name: family.name, help: family.help, labelNames: family.labelNames, registers: [registry] });
    for (const sample of own) gauge.set(sample.labels, sample.value);
  }
  return registry.metrics();
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?[ \t]*$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_match, char: string) => (char === 'n' ? '\n' : char));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * Reads the samples of a text exposition written by renderExposition (our own textfile);
 * lines it does not understand are ignored, so a damaged file only loses what cannot be read.
 */
export function parseExposition(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_RE.exec(line);
    if (!match) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const value = parseValue(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') continue;
    const labels: Record<string, string> = {};
    for (const [, key = '', raw = ''] of labelText.matchAll(LABEL_RE)) labels[key] = unescapeLabel(raw);
    samples.push({ name, labels, value });
  }
  return samples;
}

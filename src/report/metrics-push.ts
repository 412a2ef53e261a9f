// Pushgateway delivery: POST (not PUT) to the run's group, bounded by a timeout, credentials kept out of messages.
import { redactUrl } from '../util/secrets.js';
import { formatDuration } from '../util/duration.js';
import { EXPOSITION_CONTENT_TYPE } from './metrics-exposition.js';

/** Where and how to push. */
export interface PushTarget {
  url: string;
  job: string;
  /** Extra grouping labels (e.g. instance): one group per distinct set. */
  labels: Record<string, string>;
  timeoutMs: number;
}

const RESERVED = new Set(['job', 'command']);

function encodeLabel(name: string, value: string): string {
  // The Pushgateway's URL form: a value with "/" (or an empty one) travels base64url-encoded.
  if (value === '' || value.includes('/')) return `${name}@base64/${Buffer.from(value).toString('base64url') || '='}`;
  return `${name}/${encodeURIComponent(value)}`;
}

/**
 * The grouping key of a run: job, command, then the configured labels sorted by name.
 * `command` keeps orchestrate, verify and restore-test from overwriting each other.
 */
export function groupingPath(target: Pick<PushTarget, 'job' | 'labels'>, command: string): string {
  const extra = Object.entries(target.labels)
    .filter(([name]) => !RESERVED.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  return ['metrics', encodeLabel('job', target.job), encodeLabel('command', command), ...extra.map(([name, value]) => encodeLabel(name, value))].join('/');
}

/** The URL to POST to and the Authorization header for credentials given in the URL (fetch refuses them inline). */
export function pushRequest(target: Pick<PushTarget, 'url' | 'job' | 'labels'>, command: string): { url: string; authorization?: string } {
  const base = new URL(target.url);
  const user = decodeURIComponent(base.username);
  const password = decodeURIComponent(base.password);
  base.username = '';
  base.password = '';
  const prefix = base.pathname.replace(/\/+$/, '');
  base.pathname = `${prefix}/${groupingPath(target, command)}`;
  return {
    url: base.toString(),
    ...((user || password) && { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }),
  };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const err = error as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return `no answer within ${formatDuration(timeoutMs)}`;
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the Pushgateway running on that address?)';
  if (code) return `${code}${err.cause?.message ? ` (${err.cause.message})` : ''}`;
  return err.cause?.message ?? err.message;
}

/**
 * POSTs an exposition to the run's group. Resolves to undefined when the Pushgateway took it, or to a warning
 * that names the (redacted) URL, what happened and what to do. Never waits longer than `timeoutMs`.
 */
export async function pushExposition(body: string, target: PushTarget, command: string): Promise<string | undefined> {
  const shown = redactUrl(target.url);
  const fail = (what: string): string =>
    `metrics: push to Pushgateway ${shown} (job "${target.job}", command "${command}") failed: ${what}; ` +
    'this run is not on the dashboards: check that the Pushgateway is up and metrics.pushgateway.url is right';
  let request: ReturnType<typeof pushRequest>;
  try {
    request = pushRequest(target, command);
  } catch (error) {
    return fail(`invalid URL: ${(error as Error).message}`);
  }
  const signal = AbortSignal.timeout(target.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      body,
      headers: { 'content-type': EXPOSITION_CONTENT_TYPE, ...(request.authorization && { authorization: request.authorization }) },
      signal,
      redirect: 'error',
    });
    // The same signal bounds reading the answer: a server that sends headers and then stalls cannot hold the run.
    const text = await response.text();
    if (response.ok) return undefined;
    const detail = text.trim().split('\n')[0]?.slice(0, 200);
    return fail(`HTTP ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    return fail(describeFailure(error, target.timeoutMs));
  }
}

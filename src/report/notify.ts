// Webhook notifications of the run's JSON summary: bounded timeout per attempt, retries with backoff, failures are warnings.
import { backoffDelay, sleepUnlessAborted } from '../util/backoff.js';
import type { ResolvedConfig } from '../config/types.js';
import { formatDuration } from '../util/duration.js';
import { redactUrl } from '../util/secrets.js';
import { buildRunSummary } from './notify-summary.js';
import type { RunReport } from './types.js';

/** One configured webhook. */
export type Webhook = ResolvedConfig['notify'][number];

const BACKOFF = { baseMs: 500, maxMs: 5_000 };

/** Why an attempt failed, and whether trying again can help (a 4xx other than 408/429 will not). */
interface AttemptFailure {
  what: string;
  retry: boolean;
}

async function attempt(url: string, body: string, timeoutMs: number): Promise<AttemptFailure | undefined> {
  const target = new URL(url);
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  target.username = '';
  target.password = '';
  try {
    const response = await fetch(target, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'rearguard',
        ...((user || password) && { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }),
      },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    await response.arrayBuffer();
    if (response.ok) return undefined;
    return { what: `HTTP ${response.status} ${response.statusText}`, retry: response.status >= 500 || response.status === 408 || response.status === 429 };
  } catch (error) {
    const err = error as Error & { cause?: { code?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') return { what: `no answer within ${formatDuration(timeoutMs)}`, retry: true };
    return { what: err.cause?.code ?? err.message, retry: true };
  }
}

/** POSTs `body` to one webhook with its retries; resolves to a warning, or undefined once delivered. */
export async function deliverWebhook(hook: Webhook, body: string, sleep: (ms: number) => Promise<unknown> = sleepUnlessAborted): Promise<string | undefined> {
  const tries = hook.retries + 1;
  let last: AttemptFailure = { what: 'not attempted', retry: false };
  for (let n = 1; n <= tries; n += 1) {
    const failure = await attempt(hook.url, body, hook.timeoutMs);
    if (!failure) return undefined;
    last = failure;
    if (!failure.retry || n === tries) {
      return (
        `notify: webhook ${redactUrl(hook.url)} not delivered after ${n} attempt${n === 1 ? '' : 's'}: ${last.what}; ` +
        'check that the receiver is up and the notify[].webhook URL is right'
      );
    }
    await sleep(backoffDelay(n, BACKOFF));
  }
  return `notify: webhook ${redactUrl(hook.url)} not delivered: ${last.what}`;
}

/** Sends the configured webhooks whose `on` includes this verdict, all at once; returns warnings for failed deliveries. */
export async function sendNotifications(report: RunReport, config: ResolvedConfig): Promise<string[]> {
  const hooks = config.notify.filter((hook) => hook.on.includes(report.verdict));
  if (hooks.length === 0) return [];
  const body = JSON.stringify(buildRunSummary(report));
  const results = await Promise.all(hooks.map((hook) => deliverWebhook(hook, body)));
  return results.filter((warning): warning is string => warning !== undefined);
}

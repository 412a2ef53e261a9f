// Pre-flight reachable: the host answers an SSH login (with its retries and backoff); optionally enough free space there.
import { formatBytes } from '../../src/util/size.js';
import type { PreflightCheck } from '../../src/contract/check.js';

type ReachableItem = Extract<import('../../src/config/types.js').ResolvedPreflight, { kind: 'reachable' }>;

/** Reads the available bytes from `df -Pk` output (POSIX format: one line per filesystem). */
export function parseDfAvailable(output: string): number | undefined {
  const lines = output.replace(/\r/g, '').split('\n').filter((l) => l.trim() !== '');
  for (const line of lines.reverse()) {
    const match = /\s(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+\S/.exec(line);
    if (match?.[3]) return Number(match[3]) * 1024;
  }
  return undefined;
}

/** Fails before any unit runs when a host a unit or upload needs cannot be logged in to. */
export const reachableCheck: PreflightCheck<ReachableItem> = {
  id: 'reachable',
  phase: 'preflight',
  effect: 'runs-commands',
  describe: (item) => (item.minFree ? `${item.host}: SSH login works, ${formatBytes(item.minFree.bytes)} free in ${item.minFree.path}` : `${item.host}: SSH login works`),
  async run(ctx) {
    const item = ctx.options;
    const host = ctx.hosts[item.host];
    if (!host) return { status: 'failed', message: `unknown host "${item.host}": expected an entry of hosts` };
    const started = ctx.now();
    // Every try may use its connect timeout twice (TCP + login), plus the backoff between tries.
    const timeoutMs = (host.retries + 1) * (2 * host.connectTimeoutMs + 5_000) + 2 ** (host.retries + 1) * 1_000 + 30_000;
    const result = await ctx.exec.runRemote(item.host, {
      argv: item.minFree ? ['df', '-Pk', '--', item.minFree.path] : ['true'],
      env: ctx.env,
      timeoutMs,
      killGraceMs: 2_000,
      signal: ctx.signal,
    });
    const tookMs = ctx.now() - started;
    if (result.startError) return { status: 'failed', message: result.startError };
    if (result.aborted) return { status: 'failed', message: `${item.host}: stopped, the run was aborted` };
    if (result.timedOut) return { status: 'failed', message: `${item.host}: no answer within ${Math.round(timeoutMs / 1000)}s` };
    const login = `${item.host} (${host.destination}${host.port !== undefined ? ` port ${host.port}` : ''}): login ok in ${tookMs}ms`;
    if (!item.minFree) {
      return result.exitCode === 0
        ? { status: 'ok', message: login }
        : { status: 'failed', message: `${item.host}: logged in, but "true" exited with ${result.exitCode}` };
    }
    const free = parseDfAvailable(result.output);
    if (result.exitCode !== 0 || free === undefined) {
      const tail = result.output.trim().split('\n').slice(-2).join(' | ');
      return {
        status: 'failed',
        message: `${item.host}: cannot read free space of ${item.minFree.path} with df -Pk (exit ${result.exitCode}): ${tail || 'no output'}; check that the path exists there`,
      };
    }
    if (free < item.minFree.bytes) {
      return {
        status: 'failed',
        message: `${item.host}:${item.minFree.path}: ${formatBytes(free)} free, need at least ${formatBytes(item.minFree.bytes)}`,
      };
    }
    return { status: 'ok', message: `${login}; ${item.minFree.path}: ${formatBytes(free)} free (need ${formatBytes(item.minFree.bytes)})` };
  },
};

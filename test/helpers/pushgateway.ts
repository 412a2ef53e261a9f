// Starts a real Pushgateway (Debian's prometheus-pushgateway) on a free loopback port for one test file.
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PORT_TAKEN, PortTakenError, startOnFreePort } from './free-port.js';
import { findTool, requireTool } from './require-tool.js';

export { freePort } from './free-port.js';

/** A running Pushgateway. */
export interface Pushgateway {
  url: string;
  /** The samples of `name` on /metrics, as `{ labels, value }`. */
  samples(name: string): Promise<Array<{ labels: Record<string, string>; value: number }>>;
  /** The value of the one sample of `name` whose labels include `labels`; undefined when absent. */
  value(name: string, labels: Record<string, string>): Promise<number | undefined>;
  /** Deletes every group, so a test starts from nothing. */
  wipe(): Promise<void>;
  stop(): Promise<void>;
}

const INSTALL = 'apt-get install prometheus-pushgateway';

/** True when the Pushgateway binary is there (throws under CI when it is not). */
export function havePushgateway(): boolean {
  return requireTool('prometheus-pushgateway', INSTALL, ['/usr/bin']);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, key = '', value = ''] of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value.replace(/\\(.)/g, '$1');
  return labels;
}

/** Starts the Pushgateway without persistence in a temp dir and waits until it is ready. */
export async function startPushgateway(): Promise<Pushgateway> {
  const binary = findTool('prometheus-pushgateway', ['/usr/bin']);
  if (!binary) throw new Error(`prometheus-pushgateway is missing; install it with: ${INSTALL}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-pgw-'));
  // Its complaint about a taken port is on stderr, read as it comes (a full pipe would block it): kept to tell
  // that race from any other failure.
  const { port, child } = await startOnFreePort(async (candidate) => {
    const started: ResultPromise = execa(binary, [`--web.listen-address=127.0.0.1:${candidate}`, '--persistence.file=', '--web.enable-admin-api', '--log.level=warn'], {
      cwd: dir,
      reject: false,
      stdio: ['ignore', 'ignore', 'pipe'],
      buffer: false,
    });
    let errors = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${candidate}/-/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > deadline || started.exitCode !== null) {
        started.kill('SIGKILL');
        await started.catch(() => undefined);
        const why = started.exitCode !== null ? `exited with ${started.exitCode}` : 'was not ready within 10s';
        const message = `prometheus-pushgateway on 127.0.0.1:${candidate} ${why}: ${errors.trim()}`;
        throw PORT_TAKEN.test(errors) ? new PortTakenError(message) : new Error(message);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { port: candidate, child: started };
  });
  const url = `http://127.0.0.1:${port}`;
  const samples: Pushgateway['samples'] = async (name) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const out: Array<{ labels: Record<string, string>; value: number }> = [];
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match?.[1] === name) out.push({ labels: parseLabels(match[2] ?? ''), value: Number(match[3]) });
    }
    return out;
  };
  return {
    url,
    samples,
    async value(name, labels) {
      const found = (await samples(name)).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}; expected one`);
      return found[0]?.value;
    },
    async wipe() {
      const response = await fetch(`${url}/api/v1/admin/wipe`, { method: 'PUT' });
      if (!response.ok) throw new Error(`wiping the Pushgateway failed: HTTP ${response.status}`);
    },
    async stop() {
      child.kill('SIGTERM');
      await child;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

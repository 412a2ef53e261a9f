// The Exec a run uses: local processes, and SSH to configured hosts.
import type { ResolvedHost } from '../config/types.js';
import { runLocal } from './local.js';
import { createSshExec } from './ssh.js';
import type { Exec } from './types.js';

/** Options of the SSH side (control sockets live in a private folder of state_dir). */
export interface ExecOptions {
  hosts: Record<string, ResolvedHost>;
  stateDir: string;
  /** Environment of ssh clients; only what a spec adds to it is exported remotely (default: process env). */
  env?: Record<string, string>;
  /** First delay between connection retries (default 1s). */
  retryBaseMs?: number;
}

/** Builds the Exec of one run. Call `close()` when the run ends. */
export function createExec(options: ExecOptions): Exec & { close(): Promise<void> } {
  const ssh = createSshExec(options);
  return {
    run: runLocal,
    runRemote: (host, spec) => ssh.runRemote(host, spec),
    close: () => ssh.close(),
  };
}

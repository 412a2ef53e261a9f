// The Exec a run uses: local processes, and SSH to configured hosts.
import type { ResolvedHost } from '../config/types.js';
import { runLocal } from './local.js';
import type { Exec, ProcessResult } from './types.js';

/** Options of the SSH side (control sockets live in a private folder of state_dir). */
export interface ExecOptions {
  hosts: Record<string, ResolvedHost>;
  stateDir: string;
}

/** Builds the Exec of one run. Call `close()` when the run ends. */
export function createExec(options: ExecOptions): Exec & { close(): Promise<void> } {
  return {
    run: runLocal,
    async runRemote(host): Promise<ProcessResult> {
      const known = options.hosts[host] ? `host "${host}"` : `unknown host "${host}"`;
      return {
        exitCode: null,
        timedOut: false,
        aborted: false,
        durationMs: 0,
        output: '',
        leftovers: false,
        startError: `cannot run on ${known}: SSH is not available in this build`,
      };
    },
    async close() {},
  };
}

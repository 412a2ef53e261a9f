// The Exec a run uses: local processes (contained, recorded, output capped), and SSH to configured hosts.
import type { ResolvedHost } from '../config/types.js';
import { createContainment, type Containment, type ContainmentInfo } from './containment.js';
import { createLocalRunner, type LocalRunner } from './local.js';
import type { SshExec } from './ssh.js';
import type { Exec } from './types.js';

/** Options of the SSH side (control sockets live in a private folder of state_dir) and of containment. */
export interface ExecOptions {
  hosts: Record<string, ResolvedHost>;
  stateDir: string;
  /** Environment of ssh clients; only what a spec adds to it is exported remotely (default: process env). */
  env?: Record<string, string>;
  /** First delay between connection retries (default 1s). */
  retryBaseMs?: number;
  /** The run folder (state_dir/runs/<run-id>): live processes are recorded in its `live.jsonl` while they run. */
  runDir?: string;
  /** false: process groups only, no cgroups (default true: a cgroup per process where the kernel allows). */
  cgroups?: boolean;
}

/** The Exec of one run, with what its containment is and a close() for the end of the run. */
export interface RunExec extends Exec {
  /** The containment in use (decided on first use; `plan` uses describeContainment instead). */
  containment(): ContainmentInfo;
  close(): Promise<void>;
}

/** Builds the Exec of one run. Call `close()` when the run ends. */
export function createExec(options: ExecOptions): RunExec {
  // The SSH side (and execa, which it uses) loads with the first remote command: a run of local units never compiles it.
  const sshOptions = { ...options, env: options.env ?? Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined)) };
  let ssh: Promise<SshExec> | undefined;
  const sshExec = (): Promise<SshExec> => (ssh ??= import('./ssh.js').then(({ createSshExec }) => createSshExec(sshOptions)));
  let containment: Containment | undefined;
  let local: LocalRunner | undefined;
  const setUp = (): { containment: Containment; local: LocalRunner } => {
    containment ??= createContainment({ ...(options.cgroups !== undefined && { cgroups: options.cgroups }), name: `rearguard-${process.pid}` });
    local ??= createLocalRunner({ containment, ...(options.runDir && { runDir: options.runDir }) });
    return { containment, local };
  };
  return {
    run: (spec) => setUp().local(spec),
    runRemote: async (host, spec) => (await sshExec()).runRemote(host, spec),
    containment: () => setUp().containment.info,
    async close() {
      if (ssh) await (await ssh).close();
      await local?.close();
      containment?.close();
    },
  };
}

export { describeContainment, type ContainmentInfo } from './containment.js';
export { prestartLauncher } from './launcher.js';
export { prefillFifoPool } from './output-sink.js';

// Audit's look at offsite folders: upload temp files left on SSH hosts by interrupted uploads (read-only).
import type { ResolvedConfig } from '../config/types.js';
import { createExec } from '../exec/index.js';
import { listRemoteTempFiles } from '../exec/remote-temp-files.js';

/** A leftover upload temp file on a host. */
export interface RemoteTempFinding {
  host: string;
  dir: string;
  file: string;
  bytes?: number;
  mtimeMs?: number;
}

/** Folders on hosts that could not be listed, and why. */
export interface RemoteListProblem {
  host: string;
  dir: string;
  problem: string;
}

/** The distinct (host, dir) pairs of every `offsite` and `upload` in the config. */
export function offsiteFolders(config: ResolvedConfig): Array<{ host: string; dir: string }> {
  const seen = new Map<string, { host: string; dir: string }>();
  for (const stage of config.stages) {
    for (const unit of stage.units) {
      for (const artifact of unit.artifacts) {
        // The folders offsite copies are checked in and uploads ship to: both hold upload temp files.
        for (const target of [artifact.options.offsite, artifact.options.upload] as Array<{ host: string; dir: string } | undefined>) {
          if (target) seen.set(`${target.host}\0${target.dir}`, { host: target.host, dir: target.dir });
        }
      }
    }
  }
  return [...seen.values()];
}

/** Lists upload temp files in every offsite folder; a host that cannot be asked is a problem, not a crash. */
export async function gatherRemoteTempFiles(
  config: ResolvedConfig,
): Promise<{ files: RemoteTempFinding[]; problems: RemoteListProblem[] }> {
  const folders = offsiteFolders(config);
  const files: RemoteTempFinding[] = [];
  const problems: RemoteListProblem[] = [];
  if (folders.length === 0) return { files, problems };
  // The SSH control socket lives in state_dir, the only place audit may write.
  const exec = createExec({ hosts: config.hosts, stateDir: config.stateDir, env: config.env });
  try {
    for (const { host, dir } of folders) {
      try {
        for (const found of await listRemoteTempFiles(exec, host, dir, { timeoutMs: 60_000 })) {
          files.push({ host, dir, file: found.path, ...(found.bytes !== undefined && { bytes: found.bytes }), ...(found.mtimeMs !== undefined && { mtimeMs: found.mtimeMs }) });
        }
      } catch (error) {
        problems.push({ host, dir, problem: (error as Error).message });
      }
    }
  } finally {
    await exec.close().catch(() => undefined);
  }
  return { files, problems };
}

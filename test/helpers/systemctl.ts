// Debian's daemonless systemctl (a Python script) in a test root: fetch it once, write unit files, drive it.
import { execa, execaSync } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT } from './cli.js';
export { pidAlive } from './process.js';
import { IN_CI, findTool, requireTool } from './require-tool.js';

const FETCH = path.join(ROOT, 'scripts', 'fetch-systemctl.sh');
const INSTALL = 'scripts/fetch-systemctl.sh (needs apt-get and dpkg; never install the systemctl package system-wide)';

/**
 * The path of the daemonless systemctl script, fetched into test/.cache/systemctl when missing.
 * Under CI a failure throws (the test fails); locally it returns undefined and warns how to get it.
 */
export function daemonlessSystemctl(): string | undefined {
  if (!requireTool('python3', 'apt-get install python3')) return undefined;
  const script = path.join(ROOT, 'test', '.cache', 'systemctl', 'usr', 'bin', 'systemctl');
  if (!existsSync(script)) {
    try {
      execaSync(FETCH, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      const why = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      if (IN_CI) throw new Error(`the daemonless systemctl is required under CI but could not be fetched (${why}); run ${INSTALL}`);
      console.warn(`skipping: the daemonless systemctl is missing (${why}); run ${INSTALL}`);
      return undefined;
    }
  }
  return script;
}

/** A systemd root folder (`--root=<dir>`) with unit files, and a way to run systemctl on it. */
export interface SystemdRoot {
  dir: string;
  /** The argv prefix for `defaults.systemctl`. */
  prefix: string[];
  /** Writes `<dir>/etc/systemd/<system|user>/<name>`. */
  writeUnit(name: string, body: string, scope?: 'system' | 'user'): Promise<void>;
  /** Writes an executable `#!/bin/sh` script `<dir>/bin/<name>` (no unit-file quoting to get wrong); returns its path. */
  writeScript(name: string, body: string): Promise<string>;
  /** Runs systemctl on this root, as another process would (e.g. a timer starting a unit). */
  systemctl(args: string[]): Promise<{ exitCode: number; output: string }>;
  /** The unit's properties from `systemctl show`. */
  show(unit: string): Promise<Record<string, string>>;
}

/** Makes a root under `dir` for the daemonless systemctl at `script`. */
export async function makeSystemdRoot(dir: string, script: string): Promise<SystemdRoot> {
  await mkdir(path.join(dir, 'etc', 'systemd', 'system'), { recursive: true });
  await mkdir(path.join(dir, 'etc', 'systemd', 'user'), { recursive: true });
  // As on a real host: the daemonless systemctl creates these on first use without exist_ok, so two of
  // its commands at once (a start and a stop, two starts) race there and the loser fails with exit 1.
  for (const folder of ['var/run/systemd', 'var/log/journal']) await mkdir(path.join(dir, folder), { recursive: true });
  const python = findTool('python3') ?? 'python3';
  const prefix = [python, script, `--root=${dir}`];
  const systemctl = async (args: string[]): Promise<{ exitCode: number; output: string }> => {
    const result = await execa(prefix[0]!, [...prefix.slice(1), ...args], { reject: false, all: true, timeout: 30_000 });
    return { exitCode: result.exitCode ?? -1, output: result.all ?? '' };
  };
  return {
    dir,
    prefix,
    async writeUnit(name, body, scope = 'system') {
      await writeFile(path.join(dir, 'etc', 'systemd', scope, name), body);
    },
    async writeScript(name, body) {
      const file = path.join(dir, 'bin', name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return file;
    },
    systemctl,
    async show(unit) {
      const { output } = await systemctl(['show', unit]);
      return Object.fromEntries(
        output
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
    },
  };
}

/** A unit file body: `[Service]` whose ExecStart (and ExecStop) run the given programs, e.g. scripts from `writeScript`. */
export function serviceUnit(options: {
  type?: 'oneshot' | 'simple';
  start: string;
  stop?: string;
  remainAfterExit?: boolean;
  description?: string;
}): string {
  return [
    '[Unit]',
    `Description=${options.description ?? 'rearguard test unit'}`,
    '[Service]',
    `Type=${options.type ?? 'oneshot'}`,
    ...(options.remainAfterExit ? ['RemainAfterExit=yes'] : []),
    `ExecStart=${options.start}`,
    ...(options.stop ? [`ExecStop=${options.stop}`] : []),
    '',
  ].join('\n');
}


/** Reads a pid written by a unit's script. */
export async function readPid(file: string): Promise<number> {
  return Number.parseInt((await readFile(file, 'utf8')).trim(), 10);
}

/** Waits until `predicate` holds, polling; throws after `timeoutMs` with `what`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

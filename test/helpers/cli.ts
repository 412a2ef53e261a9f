// Runs the built CLI (bin/rearguard) as users do, and builds temp workspaces for tests.
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI shim. */
export const BIN = path.join(ROOT, 'bin', 'rearguard');

/** What a CLI run produced. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The last non-empty stdout line: the verdict line. */
  verdictLine: string;
}

/** Starts the CLI without waiting (for signal tests); env is added to a clean CI-like environment. */
export function startCli(args: string[], options: { cwd: string; env?: Record<string, string> }): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    reject: false,
    env: { CI: 'true', NO_COLOR: '1', ...options.env },
  }) as ResultPromise<{ reject: false }>;
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  const result = await startCli(args, options);
  return toCliResult(result);
}

/** Normalises an execa result into a CliResult. */
export function toCliResult(result: { exitCode?: number | undefined; stdout?: unknown; stderr?: unknown }): CliResult {
  const stdout = String(result.stdout ?? '');
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  return { exitCode: result.exitCode ?? -1, stdout, stderr: String(result.stderr ?? ''), verdictLine: lines[lines.length - 1] ?? '' };
}

/** A temp folder per test: write files into it, read its JSON report, remove it after. */
export interface Workspace {
  dir: string;
  file(relative: string): string;
  write(relative: string, content: string | Buffer): Promise<string>;
  readJson<T = any>(relative: string): Promise<T>;
  cleanup(): Promise<void>;
}

/** Creates a Workspace under the system temp dir. */
export async function makeWorkspace(prefix = 'rearguard-test-'): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (relative) => path.join(dir, relative),
    async write(relative, content) {
      const target = path.join(dir, relative);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
      return target;
    },
    async readJson(relative) {
      return JSON.parse(await readFile(path.join(dir, relative), 'utf8'));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

// Builders of real backup repositories in temp folders: restic and borg repositories, mirror trees, and faults at fixed points.
import { execa } from 'execa';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A password the tests use; every test asserts it appears in no output, report or log. */
export const REPO_PASSWORD = 'correct-horse-battery-staple-4711';

/** Environment that gives restic the repository password through a file. */
export function resticEnv(passwordFile: string): Record<string, string> {
  return { RESTIC_PASSWORD_FILE: passwordFile };
}

/** Creates an empty restic repository at `repo`. */
export async function initRestic(repo: string, passwordFile: string): Promise<void> {
  await execa('restic', ['--repo', repo, '--no-cache', 'init'], { env: resticEnv(passwordFile) });
}

/** Backs `paths` up into `repo` as restic does from a unit; returns the snapshot id. */
export async function resticBackup(repo: string, passwordFile: string, paths: string[], extra: string[] = []): Promise<string> {
  const result = await execa('restic', ['--repo', repo, '--no-cache', 'backup', '--json', ...extra, ...paths], { env: resticEnv(passwordFile) });
  const summary = result.stdout
    .split('\n')
    .map((line) => JSON.parse(line) as { message_type?: string; snapshot_id?: string })
    .find((message) => message.message_type === 'summary');
  if (!summary?.snapshot_id) throw new Error(`restic backup printed no summary: ${result.stdout.slice(-400)}`);
  return summary.snapshot_id;
}

/** Every regular file below `dir`, sorted by path. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** The pack files of a restic repository (its `data/` folder). */
export async function resticPacks(repo: string): Promise<string[]> {
  return listFiles(path.join(repo, 'data'));
}

/** Flips 64 bytes of `file` at `offset`: a damaged pack or segment the tool must notice. */
export async function flipBytes(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  for (let i = offset; i < Math.min(offset + 64, bytes.length); i += 1) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
  await writeFile(file, bytes);
}

/** Makes `count` files of `size` incompressible bytes each under `dir` (so sizes in repositories follow the data). */
export async function writeRandomFiles(dir: string, count: number, size: number, prefix = 'file'): Promise<string[]> {
  const { randomBytes } = await import('node:crypto');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const file = path.join(dir, `${prefix}-${i}.bin`);
    await writeFile(file, randomBytes(size));
    files.push(file);
  }
  return files;
}

/** The names of `dir`'s entries, or [] when it does not exist: to prove scratch folders are gone. */
export async function entriesOf(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

// exists: the glob matches a regular, non-empty file; the newest by mtime is the artifact.
import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import type { ArtifactCheck } from './types.js';

/** Finds the newest regular file matching `pattern`, or undefined. */
export async function findNewest(pattern: string): Promise<{ file: string; bytes: number; mtimeMs: number } | undefined> {
  const matches = await glob(pattern, { absolute: true, onlyFiles: true, dot: true, expandDirectories: false });
  let newest: { file: string; bytes: number; mtimeMs: number } | undefined;
  for (const file of matches) {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (!newest || info.mtimeMs > newest.mtimeMs) newest = { file, bytes: info.size, mtimeMs: info.mtimeMs };
  }
  return newest;
}

/** The first check of every artifact; it resolves the glob for the others. */
export const existsCheck: ArtifactCheck<Record<string, never>> = {
  id: 'exists',
  phase: 'artifact',
  select: (artifact) => ({ options: {}, level: artifact.level }),
  describe: () => 'a regular, non-empty file matches',
  async run(_ctx, target) {
    const newest = await findNewest(target.pattern);
    if (!newest) return { status: 'failed', message: `no file matches ${target.pattern}` };
    const facts = { file: newest.file, bytes: newest.bytes, mtimeMs: newest.mtimeMs };
    if (newest.bytes === 0) return { status: 'failed', message: `${newest.file} is empty (0 bytes)`, facts };
    return { status: 'ok', message: `${newest.file} (${newest.bytes} bytes)`, facts };
  },
};

// The file source: a glob; the newest regular file by mtime is the backup.
import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource } from '../src/contract/source.js';

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

/** `path:` artifacts: files on this machine, found by a glob. */
export const fileSource: ArtifactSource<{ pattern: string }> = {
  kind: 'path',
  config: defineFragment(z.string().min(1).describe('Glob of the artifact; the newest regular file by mtime is checked.'), (raw, ctx) => ({
    pattern: ctx.resolvePath(raw),
  })),
  provides: ['content'],
  name: (options) => options.pattern,
  async locate(ctx) {
    const newest = await findNewest(ctx.options.pattern);
    if (!newest) return { found: false, message: `no file matches ${ctx.options.pattern}` };
    return {
      found: true,
      backup: { id: newest.file, location: newest.file, completedAtMs: newest.mtimeMs, bytes: newest.bytes, file: newest.file },
    };
  },
};

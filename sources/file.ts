// The file source: a glob; the newest regular file by mtime is the backup.
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource } from '../src/contract/source.js';
import { findNewestFile } from '../src/util/newest-file.js';

/** `path:` artifacts: files on this machine, found by a glob. */
export const fileSource: ArtifactSource<{ pattern: string }> = {
  kind: 'path',
  config: defineFragment(textSchema.check(z.describe('Glob of the artifact; the newest regular file by mtime is checked.')), (raw, ctx) => ({
    pattern: ctx.resolvePath(raw),
  })),
  // A file backup restores by extracting it as an archive.
  provides: ['content', 'restore'],
  name: (options) => options.pattern,
  async locate(ctx) {
    const newest = await findNewestFile(ctx.options.pattern, { signal: ctx.signal });
    if (!newest) return { found: false, message: `no file matches ${ctx.options.pattern}` };
    return {
      found: true,
      backup: { id: newest.file, location: newest.file, completedAtMs: newest.mtimeMs, bytes: newest.bytes, file: newest.file },
    };
  },
};

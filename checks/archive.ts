// archive: a tar / tar.gz read to its end (truncation, gzip CRC errors), expected entries present and non-empty.
import { z } from 'zod';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelOf, levelSchema } from '../src/contract/schema-parts.js';
import picomatch from 'picomatch';
import { formatBytes } from '../src/util/size.js';
import { isRegularFileEntry, scanTar, type TarEntryInfo } from '../src/util/tar-scan.js';
import type { ArtifactCheck } from '../src/contract/check.js';

/** Strips "./" and a trailing "/" so "./db.sql.gz" and "db.sql.gz" name the same entry. */
export function normalizeEntryName(name: string): string {
  return name.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '');
}

/** Says which `expect` names have no non-empty file entry (globs allowed, e.g. "**\/*.sql.gz"). */
export function findMissingExpected(entries: TarEntryInfo[], expect: string[]): Array<{ name: string; problem: string }> {
  const files = entries.filter(isRegularFileEntry);
  const problems: Array<{ name: string; problem: string }> = [];
  for (const name of expect) {
    const isMatch = picomatch(normalizeEntryName(name), { dot: true });
    const matches = files.filter((e) => isMatch(normalizeEntryName(e.path)));
    if (matches.length === 0) problems.push({ name, problem: 'missing' });
    else if (matches.every((e) => e.size === 0)) problems.push({ name, problem: 'empty (0 bytes)' });
  }
  return problems;
}

/** Catches truncated uploads, corrupted gzip and archives that hold nothing. */
export const archiveCheck: ArtifactCheck<{ expect: string[] }, { expect: string[]; level: Level } | undefined> = {
  id: 'archive',
  phase: 'artifact',
  needs: ['content'],
  effect: 'read-only',
  stops: 'at-error',
  config: defineKey(
    'archive',
    z.union([z.boolean(), z.strictObject({ expect: z.array(z.string().min(1)).optional(), level: levelSchema.optional() })]),
    (raw, ctx) => (raw === false ? undefined : { expect: typeof raw === 'object' ? (raw.expect ?? []) : [], level: levelOf(raw, ctx.level) }),
  ),
  select: (own) => (own ? { options: { expect: own.expect }, level: own.level } : undefined),
  describe: (options) =>
    options.expect.length > 0 ? `tar read to its end; holds ${options.expect.join(', ')}` : 'tar read to its end',
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to read' };
    const scan = await scanTar(file, ctx.signal);
    if (scan.error) return { status: 'failed', message: `${file} cannot be read to its end: ${scan.error}` };
    const files = scan.entries.filter(isRegularFileEntry);
    if (files.length === 0 || scan.contentBytes === 0) {
      return {
        status: 'failed',
        message: `${file} holds ${scan.entries.length} entries but no data (${files.length} files, 0 bytes): the backup is empty`,
      };
    }
    const missing = findMissingExpected(scan.entries, ctx.options.expect);
    if (missing.length > 0) {
      return {
        status: 'failed',
        message: `${file} lacks expected entries: ${missing.map((m) => `${m.name} (${m.problem})`).join(', ')}`,
        details: files.slice(0, 20).map((e) => `${normalizeEntryName(e.path)} (${e.size} bytes)`),
      };
    }
    return {
      status: 'ok',
      message: `${scan.entries.length} entries, ${formatBytes(scan.contentBytes)} uncompressed, read to the end${
        ctx.options.expect.length > 0 ? `; ${ctx.options.expect.length} expected entries present` : ''
      }`,
    };
  },
};

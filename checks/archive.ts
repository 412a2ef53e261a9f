// archive: a tar (plain, gzip, zstd, xz or bzip2) read strictly to its end marker, expected entries present and non-empty.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelOf, levelSchema, textSchema } from '../src/contract/schema-parts.js';
import { loadPicomatch } from '../src/util/picomatch.js';
import { formatBytes } from '../src/util/size.js';
import type { ArtifactCheck } from '../src/contract/check.js';
import type { ScannedEntry } from './restore/archive-pass.js';
import { planArchivePass, type ArchivePassSpec } from './restore/pass-spec.js';
import { describeFileChange } from '../src/util/file-change.js';

/** Strips "./" and a trailing "/" so "./db.sql.gz" and "db.sql.gz" name the same entry. */
export function normalizeEntryName(name: string): string {
  return name.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '');
}

/**
 * Says which `expect` names have no non-empty file entry (globs allowed, e.g. "**\/*.sql.gz"). Names are
 * compared as bytes: a pattern's UTF-8 bytes against the bytes the archive stores.
 */
export function findMissingExpected(entries: ScannedEntry[], expect: string[]): Array<{ name: string; problem: string }> {
  const files = entries.filter((e) => e.type === 'file').map((e) => ({ key: normalizeEntryName(e.name.toString('latin1')), size: e.size }));
  const problems: Array<{ name: string; problem: string }> = [];
  for (const name of expect) {
    const isMatch = loadPicomatch()(normalizeEntryName(Buffer.from(name, 'utf8').toString('latin1')), { dot: true });
    const matches = files.filter((e) => isMatch(e.key));
    if (matches.length === 0) problems.push({ name, problem: 'missing' });
    else if (matches.every((e) => e.size === 0)) problems.push({ name, problem: 'empty (0 bytes)' });
  }
  return problems;
}

/** The reader's reason, in the words the archive check has always used for a file that is no tar at all. */
function describeReadFailure(error: string): string {
  return error.replace(/^not a tar archive/, 'not a tar or tar.gz archive (nor a tar compressed with zstd, xz or bzip2)');
}

/** Catches truncated uploads, corrupted compression, archives cut at an entry boundary and archives that hold nothing. */
export const archiveCheck: ArtifactCheck<{ expect: string[]; pass?: ArchivePassSpec }, { expect: string[]; level: Level } | undefined> = {
  id: 'archive',
  phase: 'artifact',
  needs: ['content'],
  effect: 'read-only',
  stops: 'at-error',
  config: defineKey(
    'archive',
    z.union([z.boolean(), z.strictObject({ expect: z.optional(z.array(textSchema)), level: z.optional(levelSchema) })]),
    (raw, ctx) => (raw === false ? undefined : { expect: typeof raw === 'object' ? (raw.expect ?? []) : [], level: levelOf(raw, ctx.level) }),
  ),
  select: (own, artifact, command) => {
    if (!own) return undefined;
    const pass = planArchivePass(artifact, command);
    return { options: { expect: own.expect, ...(pass && { pass }) }, level: own.level };
  },
  describe: (options) =>
    options.expect.length > 0 ? `tar read to its end; holds ${options.expect.join(', ')}` : 'tar read to its end',
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to read' };
    // The archive reader loads with the first archive read, not with every config.
    const { obtainArchivePass } = await import('./restore/archive-pass.js');
    const pass = await obtainArchivePass(ctx, target, ctx.options.pass ?? { sha256: false });
    const facts = { archivePass: pass };
    const warnings = pass.read.warnings;
    const withWarnings = (details: string[]): { details?: string[] } =>
      details.length + warnings.length > 0 ? { details: [...warnings.map((w) => `warning: ${w}`), ...details] } : {};
    if (pass.read.error !== undefined) {
      return { status: 'failed', message: `${file} cannot be read to its end: ${describeReadFailure(pass.read.error)}`, ...withWarnings([]), facts };
    }
    // The entries listed must be those of the file that was located, not of a later state of it.
    const changed = await describeFileChange(file, target.facts);
    if (changed) return { status: 'failed', message: changed, facts };
    const files = pass.entries.filter((e) => e.type === 'file');
    if (files.length === 0 || pass.contentBytes === 0) {
      return {
        status: 'failed',
        message: `${file} holds ${pass.entries.length} entries but no data (${files.length} files, 0 bytes): the backup is empty`,
        ...withWarnings([]),
        facts,
      };
    }
    const missing = findMissingExpected(pass.entries, ctx.options.expect);
    if (missing.length > 0) {
      return {
        status: 'failed',
        message: `${file} lacks expected entries: ${missing.map((m) => `${m.name} (${m.problem})`).join(', ')}`,
        ...withWarnings(files.slice(0, 20).map((e) => `${normalizeEntryName(e.displayName)} (${e.size} bytes)`)),
        facts,
      };
    }
    const compressed = pass.read.compression === 'none' ? '' : ` (${pass.read.compression})`;
    return {
      status: 'ok',
      message: `${pass.entries.length} entries, ${formatBytes(pass.contentBytes)} uncompressed${compressed}, read to the end${
        ctx.options.expect.length > 0 ? `; ${ctx.options.expect.length} expected entries present` : ''
      }${warnings.length > 0 ? `; ${warnings.length} warning(s) in details` : ''}`,
      ...withWarnings([]),
      facts,
    };
  },
};

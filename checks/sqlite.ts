// sqlite: the artifact is a SQLite 3 database that passes PRAGMA integrity_check, checked without touching its folder.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelOf, levelSchema } from '../src/contract/schema-parts.js';
import type { ArtifactCheck } from '../src/contract/check.js';
import { describeFileChange } from '../src/util/file-change.js';

/** Catches copies of live databases that are torn, truncated or not SQLite at all. */
export const sqliteCheck: ArtifactCheck<Record<string, never>, { level: Level } | undefined> = {
  id: 'sqlite',
  phase: 'artifact',
  needs: ['content'],
  effect: 'scratch',
  stops: 'at-error',
  config: defineKey('sqlite', z.union([z.boolean(), z.strictObject({ level: z.optional(levelSchema) })]), (raw, ctx) =>
    raw === false ? undefined : { level: levelOf(raw, ctx.level) },
  ),
  select: (own) => (own ? { options: {}, level: own.level } : undefined),
  describe: () => 'SQLite header, integrity_check ok (read-only)',
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to open' };
    // The SQLite driver and its worker load with the first database checked, not with every config.
    const { checkSqliteIntegrity } = await import('../src/util/sqlite-integrity.js');
    const result = await checkSqliteIntegrity(file, {
      tempDir: ctx.tempDir,
      signal: ctx.signal,
      timeoutMs: target.unitTimeoutMs,
    });
    // An integrity_check of a file that changed under it is of neither state.
    const changed = result.ok ? await describeFileChange(file, target.facts) : undefined;
    if (changed) return { status: 'failed', message: changed };
    return {
      status: result.ok ? 'ok' : 'failed',
      message: result.message,
      ...(result.details && { details: result.details }),
    };
  },
};

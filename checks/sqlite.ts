// sqlite: the artifact is a SQLite 3 database that passes PRAGMA integrity_check, checked without touching its folder.
import { checkSqliteIntegrity } from '../src/util/sqlite-integrity.js';
import type { ArtifactCheck } from '../src/contract/check.js';

/** Catches copies of live databases that are torn, truncated or not SQLite at all. */
export const sqliteCheck: ArtifactCheck<Record<string, never>> = {
  id: 'sqlite',
  phase: 'artifact',
  needs: ['content'],
  effect: 'scratch',
  stops: 'at-error',
  select: (artifact) => (artifact.sqlite ? { options: {}, level: artifact.sqlite.level } : undefined),
  describe: () => 'SQLite header, integrity_check ok (read-only)',
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to open' };
    const result = await checkSqliteIntegrity(file, {
      tempDir: ctx.tempDir,
      signal: ctx.signal,
      timeoutMs: target.unitTimeoutMs,
    });
    return {
      status: result.ok ? 'ok' : 'failed',
      message: result.message,
      ...(result.details && { details: result.details }),
    };
  },
};

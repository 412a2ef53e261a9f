// Restores a local tar archive in the one read it shares with checksum and archive (see archive-pass.ts).
import type { ArtifactTarget, CheckContext, CheckOutcome } from '../../src/contract/check.js';
import { obtainArchivePass } from './archive-pass.js';
import type { ArchivePassSpec } from './pass-spec.js';
import type { RestoreOptions } from './run-rules.js';

/** The restore of a backup that is a local archive file (`target.facts.file`). */
export async function restoreArchive(ctx: CheckContext<RestoreOptions & { pass?: ArchivePassSpec }>, target: ArtifactTarget): Promise<CheckOutcome> {
  if (!target.facts.file) return { status: 'failed', message: 'no artifact file to restore' };
  const { pass: shared, ...rules } = ctx.options;
  const pass = await obtainArchivePass(ctx, target, shared ?? { sha256: false, restore: rules });
  return { ...pass.restore!, facts: { archivePass: pass } };
}

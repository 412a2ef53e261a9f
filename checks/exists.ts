// exists: the artifact's source found a backup, and it is not empty.
import type { ArtifactCheck } from '../src/contract/check.js';

/** The first check of every artifact: judges what the source located; nothing else runs without it. */
export const existsCheck: ArtifactCheck<Record<string, never>> = {
  id: 'exists',
  phase: 'artifact',
  needs: ['facts'],
  effect: 'read-only',
  stops: 'always',
  select: (_own, artifact) => ({ options: {}, level: artifact.level }),
  describe: () => 'the newest backup is found and not empty',
  async run(_ctx, target) {
    const backup = target.located;
    if (!backup) return { status: 'failed', message: target.missing ?? `nothing found for ${target.pattern}` };
    if (backup.bytes === 0) return { status: 'failed', message: `${backup.location} is empty (0 bytes)` };
    return { status: 'ok', message: `${backup.location} (${backup.bytes} bytes)` };
  },
};

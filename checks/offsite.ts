// offsite: over SSH, the remote copy in `dir` exists, has the same size and the same sha256 (computed remotely).
import * as z from '../src/contract/zod.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelSchema, remoteTargetSchema } from '../src/contract/schema-parts.js';
import path from 'node:path';
import type { Level, ResolvedArtifact } from '../src/config/types.js';
import { inspectRemoteFile, joinRemotePath } from '../src/exec/remote-file.js';
import { sha256FileFast } from '../src/util/hash-pool.js';
import type { ArtifactCheck } from '../src/contract/check.js';
import type { Selection } from '../src/contract/check.js';

type OffsiteOptions = { host: string; dir: string };

/**
 * Chooses the offsite copy to verify: `offsite:` when given, else the target of `upload:` — so a
 * `verify` run also proves the copy an earlier `orchestrate` uploaded, and right after an upload
 * the copy under its final name is checked independently of the upload's own check.
 */
export function selectOffsite(own: (OffsiteOptions & { level: Level }) | undefined, artifact: ResolvedArtifact): Selection<OffsiteOptions> {
  if (own) return { options: { host: own.host, dir: own.dir }, level: own.level };
  // The folder an `upload:` action ships the artifact to.
  const upload = artifact.options.upload as OffsiteOptions | undefined;
  if (upload) return { options: { host: upload.host, dir: upload.dir }, level: artifact.level };
  return undefined;
}

/** Proves the copy on another machine is the same bytes as the local artifact. */
export const offsiteCheck: ArtifactCheck<OffsiteOptions, OffsiteOptions & { level: Level }> = {
  id: 'offsite',
  phase: 'offsite',
  needs: ['content', 'host'],
  effect: 'read-only',
  stops: 'at-error',
  config: defineKey('offsite', z.extend(remoteTargetSchema, { level: z.optional(levelSchema) }), (raw, ctx) => ({
    host: raw.host,
    dir: raw.dir,
    level: raw.level ?? ctx.level,
  })),
  select: (own, artifact) => selectOffsite(own, artifact),
  describe: (options) => `same size and sha256 on ${options.host}:${options.dir}`,
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no local artifact to compare with' };
    const remote = joinRemotePath(ctx.options.dir, path.basename(file));
    const where = `${ctx.options.host}:${remote}`;
    const localBytes = target.facts.bytes;
    // Hash both sides at once; the remote one is skipped when the sizes already differ.
    const [answer, localHash] = await Promise.all([
      inspectRemoteFile(ctx.exec, ctx.options.host, remote, {
        want: localBytes ?? 'hash',
        timeoutMs: target.unitTimeoutMs,
        signal: ctx.signal,
      }),
      target.facts.sha256 ? Promise.resolve(target.facts.sha256) : sha256FileFast(file, ctx.signal).catch((error: Error) => error),
    ]);
    if (localHash instanceof Error) return { status: 'failed', message: `cannot hash ${file}: ${localHash.message}` };
    if (!answer.ok) return { status: 'failed', message: `offsite copy ${where}: ${answer.message}` };
    const facts = answer.facts;
    if (facts.state === 'missing') {
      return { status: 'failed', message: `no offsite copy: expected ${where} to exist (copy or upload ${path.basename(file)} there)` };
    }
    if (facts.state === 'notfile') return { status: 'failed', message: `offsite copy ${where} is not a regular file` };
    if (localBytes !== undefined && facts.bytes !== localBytes) {
      return {
        status: 'failed',
        message: `offsite copy ${where} is ${facts.bytes} bytes, the local artifact ${localBytes} bytes: the copy is incomplete or stale`,
        facts: { sha256: localHash },
      };
    }
    if (!facts.sha256) return { status: 'failed', message: `offsite copy ${where}: no sha256 was computed` };
    if (facts.sha256 !== localHash) {
      return {
        status: 'failed',
        message: `offsite copy ${where} has sha256 ${facts.sha256} (${facts.tool}), the local artifact ${localHash}: same size, different bytes`,
        facts: { sha256: localHash },
      };
    }
    return { status: 'ok', message: `${where}: ${facts.bytes} bytes, sha256 ${facts.sha256} (${facts.tool} on ${ctx.options.host})`, facts: { sha256: localHash } };
  },
};

// checksum: the streamed sha256 of the artifact equals its sidecar (<file>.sha256) or its manifest entry.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { levelOf, levelSchema, textSchema } from '../src/contract/schema-parts.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeFileChange } from '../src/util/file-change.js';
import type { FileDigest } from '../src/util/hash-pool.js';
import type { ArtifactCheck, ArtifactFacts } from '../src/contract/check.js';
import { planArchivePass, type ArchivePassSpec } from './restore/pass-spec.js';
import { parseSha256Sums } from './restore/sha256-list.js';

type ChecksumOptions = { kind: 'sidecar' } | { kind: 'manifest'; manifest: string };
/** The check's options: where the expected hash is, and the read it shares with archive and restore when they run too. */
type ChecksumCheckOptions = ChecksumOptions & { pass?: ArchivePassSpec };

const BARE_RE = /^([0-9a-fA-F]{64})$/;

/** Why a sidecar or manifest could not be read: missing is one problem, unreadable (EACCES, EIO) another. */
function describeUnreadable(what: string, error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return `${what} is missing`;
  if (code === 'EACCES' || code === 'EPERM') return `${what} cannot be read: ${message}; run rearguard as a user that may read it`;
  return `${what} cannot be read: ${message}`;
}

async function expectedFromSidecar(file: string): Promise<{ hash?: string; problem?: string }> {
  const sidecar = `${file}.sha256`;
  let text: string;
  try {
    text = await readFile(sidecar, 'utf8');
  } catch (error) {
    return { problem: describeUnreadable(`sidecar ${sidecar}`, error) };
  }
  const trimmed = text.trim();
  const bare = BARE_RE.exec(trimmed);
  if (bare?.[1]) return { hash: bare[1].toLowerCase() };
  const { entries, garbled } = parseSha256Sums(text);
  if (entries.length !== 1 || garbled.length > 0) {
    return { problem: `sidecar ${sidecar} is garbled: expected "<64 hex digits>  ${path.basename(file)}", got "${trimmed.slice(0, 80)}"` };
  }
  const entry = entries[0]!;
  if (path.basename(entry.name) !== path.basename(file)) {
    return { problem: `sidecar ${sidecar} names "${entry.name}", not ${path.basename(file)}` };
  }
  return { hash: entry.hash };
}

async function expectedFromManifest(file: string, manifest: string): Promise<{ hash?: string; problem?: string }> {
  let text: string;
  try {
    text = await readFile(manifest, 'utf8');
  } catch (error) {
    return { problem: describeUnreadable(`manifest ${manifest}`, error) };
  }
  const { entries } = parseSha256Sums(text);
  const relative = path.relative(path.dirname(manifest), file);
  const entry =
    entries.find((e) => e.name.replace(/^\.\//, '') === relative) ??
    entries.find((e) => path.basename(e.name) === path.basename(file));
  if (!entry) return { problem: `manifest ${manifest} has no entry for ${path.basename(file)}` };
  return { hash: entry.hash };
}

/** Streams the artifact through sha256 and compares with what was recorded when it was written. */
const checksumKey = defineKey(
  'checksum',
  z.union([
    z.literal('sidecar'),
    z.strictObject({ sidecar: z.literal(true), level: z.optional(levelSchema) }),
    z.strictObject({ manifest: textSchema, level: z.optional(levelSchema) }),
  ]),
  (raw, ctx): ChecksumOptions & { level: Level } =>
    typeof raw === 'object' && 'manifest' in raw
      ? { kind: 'manifest', manifest: ctx.resolvePath(raw.manifest), level: levelOf(raw, ctx.level) }
      : { kind: 'sidecar', level: levelOf(raw, ctx.level) },
);

export const checksumCheck: ArtifactCheck<ChecksumCheckOptions, ChecksumOptions & { level: Level }> = {
  id: 'checksum',
  phase: 'artifact',
  needs: ['content'],
  effect: 'read-only',
  stops: 'at-error',
  config: checksumKey,
  select: (own, artifact, command) => {
    if (!own) return undefined;
    const { level, ...options } = own;
    const pass = planArchivePass(artifact, command);
    return { options: { ...options, ...(pass && { pass }) }, level };
  },
  describe: (options) => (options.kind === 'sidecar' ? 'sha256 equals <file>.sha256' : `sha256 listed in ${options.manifest}`),
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to hash' };
    const expected =
      ctx.options.kind === 'sidecar' ? await expectedFromSidecar(file) : await expectedFromManifest(file, ctx.options.manifest);
    if (!expected.hash) return { status: 'failed', message: expected.problem ?? 'no expected checksum' };
    const facts: Partial<ArtifactFacts> = {};
    // With archive or restore on the same archive, its sha256 comes from their one read of it.
    if (target.facts.sha256 === undefined && ctx.options.pass?.sha256) {
      // The archive reader loads with the first archive read, not with every config.
      const { obtainArchivePass } = await import('./restore/archive-pass.js');
      const pass = await obtainArchivePass(ctx, target, ctx.options.pass);
      facts.archivePass = pass;
      if (pass.sha256 !== undefined) facts.sha256 = pass.sha256;
    }
    let readBytes: number | undefined;
    let actual = target.facts.sha256 ?? facts.sha256;
    if (actual === undefined) {
      // The hash pool (worker threads) loads with the first file hashed, not with every config.
      const { HashFileError, sharedHashPool } = await import('../src/util/hash-pool.js');
      let digest: FileDigest;
      try {
        digest = await sharedHashPool().hashFile(file, { signal: ctx.signal });
      } catch (error) {
        // A file that cannot be read (EACCES, EIO, gone) is a failed check with the pool's advice, not a crash.
        if (error instanceof HashFileError) return { status: 'failed', message: error.message };
        throw error;
      }
      actual = digest.sha256;
      readBytes = digest.bytes;
    }
    // The hash and the size reported beside it must be of one state of the file.
    const changed = await describeFileChange(file, target.facts, readBytes);
    if (changed) return { status: 'failed', message: changed };
    facts.sha256 = actual;
    if (actual !== expected.hash) {
      return {
        status: 'failed',
        message: `checksum mismatch: ${path.basename(file)} hashes to ${actual}, expected ${expected.hash}`,
        facts,
      };
    }
    return { status: 'ok', message: `sha256 ${actual}`, facts };
  },
};

// upload: ship the artifact to a host over SSH atomically: temp file, sha256 compared, then renamed into place.
import { defineKey } from '../src/contract/config-fragment.js';
import { remoteTargetSchema } from '../src/contract/schema-parts.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { inspectRemoteFile, joinRemotePath } from '../src/exec/remote-file.js';
import { removeRemoteFile } from '../src/exec/remote-temp-files.js';
import type { ArtifactAction } from '../src/contract/action.js';
import type { CheckOutcome } from '../src/contract/check.js';

type UploadOptions = { host: string; dir: string };

/**
 * Receives stdin into the temp file. A short stream (cut connection, abort, timeout) or a failed
 * write (disk full) removes the temp file on the remote side itself, so nothing half-written stays
 * even when rearguard cannot reach the host any more. Temp files of the same name that an earlier
 * upload left (rearguard killed before its rename, when nothing could clean up) are removed first.
 */
const RECEIVE_SCRIPT = [
  'd=$1; t=$2; n=$3; p=$4',
  'if [ ! -d "$d" ]; then echo "rearguard: $d is not a directory on this host; create it first" >&2; exit 3; fi',
  'for f in "$d"/."$p".tmp.*; do if [ -f "$f" ] && [ "$f" != "$t" ] && rm -f -- "$f"; then echo "rearguard: removed $f, left by an interrupted upload" >&2; fi; done',
  'umask 077',
  'if ! cat > "$t"; then rm -f -- "$t"; echo "rearguard: writing $t failed; removed it" >&2; exit 4; fi',
  's=$(stat -c %s -- "$t" 2>/dev/null || stat -f %z -- "$t" 2>/dev/null || wc -c < "$t"); s=$(echo $s)',
  'if [ "$s" != "$n" ]; then rm -f -- "$t"; echo "rearguard: received $s of $n bytes; removed $t" >&2; exit 5; fi',
].join('\n');

/** Renames the verified temp file over the final name (atomic within one folder). */
const COMMIT_SCRIPT = [
  't=$1; f=$2',
  'if [ -d "$f" ]; then rm -f -- "$t"; echo "rearguard: $f is a directory" >&2; exit 6; fi',
  'mv -f -- "$t" "$f"',
].join('\n');

/** The temp name of an upload: `.<name>.tmp.<run-id>` (what listRemoteTempFiles and audit find). */
export function uploadTempName(name: string, runId: string): string {
  return `.${name}.tmp.${runId}`;
}

/** Uploads in orchestrate, after every local check passed; `offsite` then verifies the final copy. */
export const uploadAction: ArtifactAction<UploadOptions, UploadOptions> = {
  id: 'upload',
  phase: 'ship',
  needs: ['content', 'host'],
  effect: 'side-effect',
  stops: 'at-error',
  config: defineKey('upload', remoteTargetSchema, (raw): UploadOptions => ({ host: raw.host, dir: raw.dir })),
  select: (own, artifact, command) => (command === 'orchestrate' && own ? { options: own, level: artifact.level } : undefined),
  describe: (options) => `upload to ${options.host}:${options.dir} (temp file, sha256 compared, then renamed)`,
  async run(ctx, target): Promise<CheckOutcome> {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no local artifact to upload' };
    const { host, dir } = ctx.options;
    const name = path.basename(file);
    const finalPath = joinRemotePath(dir, name);
    const tempPath = joinRemotePath(dir, uploadTempName(name, ctx.runId));
    const kept = `the previous copy ${host}:${finalPath} (if any) was left as it was`;
    let bytes: number;
    try {
      bytes = (await stat(file)).size;
    } catch (error) {
      return { status: 'failed', message: `cannot read ${file}: ${(error as Error).message}` };
    }

    // Hash exactly the bytes that are sent.
    const hash = createHash('sha256');
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    let readError: Error | undefined;
    source.on('error', (error) => {
      readError = error;
      hashing.destroy(error);
    });
    source.pipe(hashing);
    const sent = await ctx.exec.runRemote(host, {
      argv: ['sh', '-c', RECEIVE_SCRIPT, 'rearguard-upload', dir, tempPath, String(bytes), name],
      inputStream: hashing,
      timeoutMs: target.unitTimeoutMs,
      killGraceMs: 5_000,
      signal: ctx.signal,
    });
    source.destroy();
    const orphans = [...sent.output.matchAll(/^rearguard: removed (.+), left by an interrupted upload$/gm)].map((m) => m[1]!);
    const cleaned = orphans.map((orphan) => `; removed ${orphan}, left by an interrupted upload`).join('');
    const fail = async (why: string): Promise<CheckOutcome> => {
      const removed = await removeRemoteFile(ctx.exec, host, tempPath);
      const leftover = removed ? `temp file ${tempPath} removed` : `could not remove ${host}:${tempPath}; rearguard audit lists such orphans`;
      return { status: 'failed', message: `upload of ${name} to ${host}:${dir} failed: ${why}; ${leftover}; ${kept}${cleaned}` };
    };
    const detail = sent.output
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.endsWith(', left by an interrupted upload'))
      .slice(-2)
      .join(' | ');
    if (readError) return fail(`reading ${file} failed: ${readError.message}`);
    if (sent.aborted) return fail('the run was aborted');
    if (sent.timedOut) return fail(`timed out after ${Math.round(target.unitTimeoutMs / 1000)}s`);
    if (sent.startError) return fail(sent.startError);
    if (sent.connectionLost) return fail(sent.connectionLost);
    if (sent.exitCode !== 0) return fail(`the remote side exited with ${sent.exitCode}${detail ? `: ${detail}` : ''}`);

    const localHash = hash.digest('hex');
    if (target.facts.sha256 && target.facts.sha256 !== localHash) {
      return fail(`${file} changed while it was sent (sha256 ${localHash}, verified earlier as ${target.facts.sha256})`);
    }
    const answer = await inspectRemoteFile(ctx.exec, host, tempPath, { want: bytes, timeoutMs: target.unitTimeoutMs, signal: ctx.signal });
    if (!answer.ok) return fail(answer.message);
    if (answer.facts.state !== 'file') return fail(`the temp file ${tempPath} disappeared before it could be verified`);
    if (answer.facts.bytes !== bytes) return fail(`${tempPath} holds ${answer.facts.bytes} bytes, ${bytes} were sent`);
    if (answer.facts.sha256 !== localHash) {
      return fail(`remote sha256 ${answer.facts.sha256 ?? 'none'} (${answer.facts.tool}) differs from the ${localHash} that was sent`);
    }
    if (ctx.signal.aborted) return fail('the run was aborted');

    const committed = await ctx.exec.runRemote(host, {
      argv: ['sh', '-c', COMMIT_SCRIPT, 'rearguard-commit', tempPath, finalPath],
      timeoutMs: 60_000,
      killGraceMs: 2_000,
    });
    if (committed.exitCode !== 0 || committed.startError) {
      return fail(`renaming into place failed: ${committed.startError ?? committed.output.trim().slice(-200)}`);
    }
    return {
      status: 'ok',
      message: `uploaded ${bytes} bytes to ${host}:${finalPath}, sha256 ${localHash} verified on ${host} (${answer.facts.tool}) before the rename${cleaned}`,
      facts: { sha256: localHash },
    };
  },
};

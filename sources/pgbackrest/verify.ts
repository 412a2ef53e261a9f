// `pgbackrest verify`: every file of the repository read back against its checksum, judged from the summary it prints.
import { lastLine } from '../../src/util/tail.js';
import type { LocatedBackup, SourceContext, SourceOutcome, VerifyDepth } from '../../src/contract/source.js';
import { describeFailure, succeeded } from '../../src/exec/types.js';
import { describeStanza, pgbackrestArgv, runPgBackRest, type PgBackRestOptions } from './command.js';

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const MAX_DETAILS = 30;

/** The verdict of verify's text summary: the stanza's `status:` line, and the lines naming what is wrong. */
export function judgeVerifyOutput(output: string): { status: 'ok' | 'error' | 'unknown'; problems: string[] } {
  const lines = output.split('\n').map((line) => line.replace(/^.*?\b(?:INFO|WARN|ERROR):\s*/, '').trimEnd());
  // The stanza's own line is `status: ok|error`; a backup's line reads `backup: <label>, status: invalid`.
  const statuses = lines.map((line) => /^\s*status:\s*(\S+)\s*$/.exec(line)?.[1]).filter((value): value is string => value !== undefined);
  // Count lines ("checksum invalid: 0") name a problem only when the count is not zero.
  const problems = lines
    .filter((line) => /(?:missing|invalid|other): *[1-9]|status: *(?:invalid|error)|invalid checksum|unable to|^\s*(?:ERROR|WARN)\b/i.test(line))
    .map((line) => line.trim());
  if (statuses.some((value) => value !== 'ok')) return { status: 'error', problems };
  if (statuses.length === 0) return { status: 'unknown', problems };
  return { status: problems.length > 0 ? 'error' : 'ok', problems };
}

/** Runs verify on the stanza's repository; pgBackRest always reads every file, so `depth` changes nothing. */
export async function verifyRepository(ctx: SourceContext<PgBackRestOptions>, backup: LocatedBackup, _depth: VerifyDepth): Promise<SourceOutcome> {
  const { options } = ctx;
  const where = describeStanza(options);
  // Exit status 0 does not mean a sound repository (verify reports damage and still exits 0): read the summary.
  const argv = pgbackrestArgv(options, 'verify', ['--output=text', '--verbose'], 'warn');
  const result = await runPgBackRest(ctx, options, argv, { timeoutMs: ctx.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const details = result.output.split('\n').filter((line) => line.trim() !== '').slice(-MAX_DETAILS);
  if (!succeeded(result)) {
    return { ok: false, message: `pgbackrest verify of ${where} failed (${describeFailure(result, 'the unit timeout')}): ${lastLine(result.output)}`, details };
  }
  const verdict = judgeVerifyOutput(result.output);
  if (verdict.status === 'ok') return { ok: true, message: `pgbackrest verify of ${where} read every file back against its checksum: ok (newest set ${backup.id})` };
  if (verdict.status === 'unknown') {
    return { ok: false, message: `pgbackrest verify of ${where} printed no status line, so the repository is not proven sound; run it by hand to see why`, details };
  }
  return {
    ok: false,
    message: `pgbackrest verify of ${where} found damage: ${verdict.problems.filter((line) => !/^status:/.test(line)).slice(0, 2).join('; ') || 'status: error'}; restore the repository from a copy or take a new full backup`,
    details: verdict.problems.length > 0 ? verdict.problems.slice(0, MAX_DETAILS) : details,
  };
}

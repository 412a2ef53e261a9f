// command: any argv over the artifact ("{artifact}" and $REARGUARD_ARTIFACT name it); exit 0 passes.
import * as z from '../src/contract/zod.js';
import type { Level } from '../src/config/types.js';
import { defineKey } from '../src/contract/config-fragment.js';
import { argvSchema, durationSchema, levelOf, levelSchema } from '../src/contract/schema-parts.js';
import { lastLines, OUTPUT_TAIL_LINES } from '../src/util/tail.js';
import { describeFailure, succeeded } from '../src/exec/types.js';
import { formatDuration, parseDuration } from '../src/util/duration.js';
import type { ArtifactCheck } from '../src/contract/check.js';

type CommandOptions = { argv: string[]; timeoutMs?: number };

const commandKey = defineKey(
  'command',
  z
    .union([argvSchema, z.strictObject({ run: argvSchema, timeout: z.optional(durationSchema), level: z.optional(levelSchema) })])
    .check(z.describe('Any argv; "{artifact}" is replaced by the artifact path; exit 0 passes.')),
  (raw, ctx): CommandOptions & { level: Level } =>
    Array.isArray(raw)
      ? { argv: raw, level: ctx.level }
      : { argv: raw.run, ...(raw.timeout && { timeoutMs: parseDuration(raw.timeout) }), level: levelOf(raw, ctx.level) },
);

const KILL_GRACE_MS = 5_000;

/** Replaces every "{artifact}" in argv with the artifact's path. */
export function substituteArtifact(argv: string[], file: string): string[] {
  return argv.map((arg) => arg.split('{artifact}').join(file));
}

/** Runs a verifier of the user's choice, e.g. `restic check --read-data-subset=5%` or `gzip -t {artifact}`. */
export const commandCheck: ArtifactCheck<CommandOptions, CommandOptions & { level: Level }> = {
  id: 'command',
  phase: 'artifact',
  needs: ['content'],
  effect: 'runs-commands',
  stops: 'at-error',
  config: commandKey,
  select: (own) => {
    if (!own) return undefined;
    const { level, ...options } = own;
    return { options, level };
  },
  describe: (options) => options.argv.join(' '),
  async run(ctx, target) {
    const file = target.facts.file;
    if (!file) return { status: 'failed', message: 'no artifact file to check' };
    const argv = substituteArtifact(ctx.options.argv, file);
    const timeoutMs = ctx.options.timeoutMs ?? target.unitTimeoutMs;
    const result = await ctx.exec.run({
      argv,
      env: { ...ctx.env, REARGUARD_ARTIFACT: file },
      timeoutMs,
      killGraceMs: KILL_GRACE_MS,
      signal: ctx.signal,
    });
    const tail = lastLines(result.output, OUTPUT_TAIL_LINES);
    const shown = argv.join(' ');
    if (succeeded(result)) return { status: 'ok', message: `${shown}: exit 0` };
    return {
      status: 'failed',
      message: `${shown}: ${describeFailure(result, formatDuration(timeoutMs))}; exit 0 was expected`,
      ...(tail.length > 0 && { details: tail }),
    };
  },
};

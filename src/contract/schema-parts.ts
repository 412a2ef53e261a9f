// The building blocks of the config schema that checks, sources and src/config all use.
import { z } from 'zod';
import { DURATION_PATTERN } from '../util/duration.js';
import { SIZE_PATTERN } from '../util/size.js';

/** A duration: "90s", "5m", "1h30m". */
export const durationSchema = z
  .string()
  .regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like "90s", "5m" or "1h30m"' })
  .describe('A duration: "90s", "5m", "1h30m".');

/** A size: "500MB", "50GiB" (SI and IEC), or plain bytes. */
export const sizeSchema = z
  .union([
    z.string().regex(new RegExp(SIZE_PATTERN), { error: 'expected a size like "500MB", "50GiB" or a number of bytes' }),
    z.number().int().nonnegative(),
  ])
  .describe('A size: "500MB", "50GiB" (SI and IEC), or plain bytes.');

/** A percentage such as "50%". */
export const percentSchema = z
  .string()
  .regex(/^\d+(?:\.\d+)?%$/, { error: 'expected a percentage like "50%"' })
  .describe('A percentage such as "50%".');

/** error (default) fails the gate; warning only downgrades it to partial. */
export const levelSchema = z.enum(['error', 'warning']).describe('error (default) fails the gate; warning only downgrades it to partial.');

/** An argv list; never run through a shell. */
export const argvSchema = z.array(z.string().min(1)).min(1).describe('An argv list; never run through a shell.');

/** The name of an entry of `hosts`. */
export const hostRefSchema = z.string().min(1).describe('The name of an entry of `hosts`.');

/** A folder on a host: { host, dir }. */
export const remoteTargetSchema = z.strictObject({ host: hostRefSchema, dir: z.string().min(1) });

/** "50%" as 50. */
export function parsePercent(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text.slice(0, -1));
}

/** The `level` of an object-valued key, or the fallback (the artifact's level). */
export function levelOf(value: unknown, fallback: 'error' | 'warning'): 'error' | 'warning' {
  return typeof value === 'object' && value !== null && 'level' in value && value.level !== undefined
    ? (value.level as 'error' | 'warning')
    : fallback;
}

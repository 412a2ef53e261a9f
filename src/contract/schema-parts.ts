// The building blocks of the config schema that checks, sources and src/config all use.
import * as z from './zod.js';
import { DURATION_PATTERN } from '../util/duration.js';
import { SIZE_PATTERN } from '../util/size.js';

/** A non-empty string: a path, a name, a glob, an argument. */
export const textSchema = z.string().check(z.minLength(1));

/** A duration: "90s", "5m", "1h30m". */
export const durationSchema = z
  .string()
  .check(z.regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like "90s", "5m" or "1h30m"' }), z.describe('A duration: "90s", "5m", "1h30m".'));

/** A size: "500MB", "50GiB" (SI and IEC), or plain bytes. */
export const sizeSchema = z
  .union([
    z.string().check(z.regex(new RegExp(SIZE_PATTERN), { error: 'expected a size like "500MB", "50GiB" or a number of bytes' })),
    z.int().check(z.nonnegative()),
  ])
  .check(z.describe('A size: "500MB", "50GiB" (SI and IEC), or plain bytes.'));

/** A percentage such as "50%". */
export const percentSchema = z
  .string()
  .check(z.regex(/^\d+(?:\.\d+)?%$/, { error: 'expected a percentage like "50%"' }), z.describe('A percentage such as "50%".'));

/** error (default) fails the gate; warning only downgrades it to partial. */
export const levelSchema = z.enum(['error', 'warning']).check(z.describe('error (default) fails the gate; warning only downgrades it to partial.'));

/** An argv list; never run through a shell. */
export const argvSchema = z.array(textSchema).check(z.minLength(1), z.describe('An argv list; never run through a shell.'));

/** The name of an entry of `hosts`. */
export const hostRefSchema = textSchema.check(z.describe('The name of an entry of `hosts`.'));

/** A folder on a host: { host, dir }. */
export const remoteTargetSchema = z.strictObject({ host: hostRefSchema, dir: textSchema });

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

// A piece of the config schema that lives with the source (or check) it configures.
import type * as z from './zod.js';

/** What resolving a fragment may use: paths are taken from the config file's folder, ~ from HOME. */
export interface FragmentContext {
  resolvePath(p: string): string;
  /** The artifact's level: the default level of a check's own key. */
  level: 'error' | 'warning';
}

/** A fragment owned by a check or action: the artifact key it configures. */
export interface KeyedFragment<Resolved = unknown> extends ConfigFragment<z.ZodMiniType, Resolved> {
  key: string;
}

/** Declares a check's fragment for artifact key `key`. */
export function defineKey<Schema extends z.ZodMiniType, Resolved>(
  key: string,
  schema: Schema,
  resolve: (raw: z.output<Schema>, ctx: FragmentContext) => Resolved,
): KeyedFragment<Resolved> & ConfigFragment<Schema, Resolved> {
  return { key, schema, resolve };
}

/** The schema of one config key and how its validated value becomes the options its owner runs with. */
export interface ConfigFragment<Schema extends z.ZodMiniType = z.ZodMiniType, Resolved = unknown> {
  schema: Schema;
  resolve(raw: z.output<Schema>, ctx: FragmentContext): Resolved;
}

/** Declares a fragment with its types inferred from the schema. */
export function defineFragment<Schema extends z.ZodMiniType, Resolved>(
  schema: Schema,
  resolve: (raw: z.output<Schema>, ctx: FragmentContext) => Resolved,
): ConfigFragment<Schema, Resolved> {
  return { schema, resolve };
}

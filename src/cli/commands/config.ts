// config validate | config schema.
import { ARTIFACT_KINDS } from '../artifact-kinds.js';
import { buildJsonSchema } from '../../config/schema.js';
import type { CommonFlags } from '../options.js';
import { loadForCommand, type CommandIo } from './run.js';

/** Validates the config; prints a one-line summary on success. */
export async function validateConfigCommand(flags: CommonFlags, io: CommandIo): Promise<number> {
  const config = await loadForCommand('plan', flags, io);
  const units = config.stages.reduce((n, s) => n + s.units.length, 0);
  for (const warning of config.warnings) io.output.err(`warning: ${warning}`);
  io.output.out(`${config.file}: valid (${config.stages.length} stage(s), ${units} unit entr${units === 1 ? 'y' : 'ies'}, ${config.preflight.length} pre-flight check(s))`);
  return 0;
}

/** Prints the JSON Schema of the config. */
export function printSchemaCommand(io: CommandIo): number {
  io.output.out(JSON.stringify(buildJsonSchema(ARTIFACT_KINDS), null, 2));
  return 0;
}

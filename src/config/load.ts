// Reads a rearguard.yml (IO) and validates it against the schema: the fast read first, the `yaml` library for
// every config it does not take and for every problem's message (config-document.ts).
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { ArtifactKinds } from './kinds.js';
import { readPlainYaml } from './plain-yaml.js';
import { buildConfigSchema, type RawConfig } from './schema.js';

/** Reads and validates a config file; throws ConfigError listing every problem. */
export async function loadRawConfig(file: string, kinds: ArtifactKinds): Promise<RawConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'config file not found (pass -c <file> or set REARGUARD_CONFIG)'
        : `cannot read the config file: ${(error as Error).message}`;
    throw new ConfigError([{ file, path: '', message }], { cause: error });
  }
  return parseRawConfig(text, file, kinds);
}

/** Validates config text; `file` only names the source in messages. Rejects with a ConfigError listing every problem. */
export async function parseRawConfig(text: string, file: string, kinds: ArtifactKinds): Promise<RawConfig> {
  const plain = readPlainYaml(text);
  if (plain && plain.data !== null) {
    const result = buildConfigSchema(kinds).safeParse(plain.data, { reportInput: true });
    if (result.success) return result.data;
  }
  // Outside the plain subset, not YAML, empty or refused: the `yaml` library reads it again, and says what is
  // wrong and on which line. It loads only then.
  const { readConfigDocument } = await import('./config-document.js');
  return readConfigDocument(text, file, kinds);
}

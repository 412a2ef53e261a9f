// The committed JSON Schema (schema/rearguard.schema.json) must be exactly what the code generates.
import { ARTIFACT_KINDS } from '../../../src/cli/artifact-kinds.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';
import { describe, expect, it } from 'vitest';
import { buildJsonSchema } from '../../../src/config/schema.js';
import { ROOT } from '../../helpers/cli.js';

const SCHEMA_FILE = path.join(ROOT, 'schema', 'rearguard.schema.json');
const REGENERATE = 'node bin/rearguard config schema > schema/rearguard.schema.json (after npx tsc -p tsconfig.build.json)';

describe('schema/rearguard.schema.json', () => {
  it('matches buildJsonSchema(ARTIFACT_KINDS) byte for byte, as `rearguard config schema` prints it', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    const generated = `${JSON.stringify(buildJsonSchema(ARTIFACT_KINDS), null, 2)}\n`;
    expect(JSON.parse(committed), `the committed schema drifted from src/config/schema.ts; regenerate it with: ${REGENERATE}`).toEqual(JSON.parse(generated));
    expect(committed, `formatting differs; regenerate it with: ${REGENERATE}`).toBe(generated);
  });

  it('is referenced by every example config for editor completion, with a path that resolves to it', async () => {
    const configs = await glob(['examples/**/*.yml'], { cwd: ROOT, ignore: ['examples/alerts/**', 'examples/ci/**', '**/node_modules/**'] });
    const rearguardConfigs = [];
    for (const file of configs) {
      const text = await readFile(path.join(ROOT, file), 'utf8');
      if (!/^version:\s*1\s*$/m.test(text) || !/^stages:/m.test(text)) continue;
      rearguardConfigs.push(file);
      const match = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text);
      expect(match, `${file} has no "# yaml-language-server: $schema=..." line`).not.toBeNull();
      expect(path.resolve(ROOT, path.dirname(file), match![1]!), `${file} points its $schema elsewhere`).toBe(SCHEMA_FILE);
    }
    expect(rearguardConfigs).toContain('examples/demo/rearguard.yml');
  });
});

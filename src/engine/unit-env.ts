// Builds a unit's environment: inherited env, then env_file, then env.
import { readFile } from 'node:fs/promises';

/** Parses KEY=VALUE lines (comments, blank lines, `export`, single or double quotes). */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match?.[1]) throw new Error(`${file}:${index + 1}: expected KEY=VALUE, got "${line.slice(0, 40)}"`);
    let value = match[2] ?? '';
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? (quoted[2] ?? '').replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : (quoted[2] ?? '');
    else value = value.replace(/\s+#.*$/, '');
    out[match[1]] = value;
  });
  return out;
}

/** The full environment of a unit; throws with the file named when env_file cannot be read. */
export async function buildUnitEnv(
  base: Record<string, string>,
  envFile: string | undefined,
  env: Record<string, string>,
): Promise<{ env: Record<string, string>; fromFile: Record<string, string> }> {
  let fromFile: Record<string, string> = {};
  if (envFile) {
    let text: string;
    try {
      text = await readFile(envFile, 'utf8');
    } catch (error) {
      throw new Error(`cannot read env_file ${envFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    fromFile = parseEnvFile(text, envFile);
  }
  return { env: { ...base, ...fromFile, ...env }, fromFile };
}

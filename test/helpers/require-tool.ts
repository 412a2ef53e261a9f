// Integration tests need real components; under CI a missing one fails, locally it skips with the install step.
import { execaSync } from 'execa';

/** True when running under CI (every integration test is required there). */
export const IN_CI = Boolean(process.env.CI) && process.env.CI !== 'false';

/** Finds a program on PATH or in extra dirs; returns its path or undefined. */
export function findTool(name: string, extraDirs: string[] = []): string | undefined {
  for (const dir of extraDirs) {
    const candidate = `${dir}/${name}`;
    try {
      execaSync('test', ['-x', candidate]);
      return candidate;
    } catch {
      // keep looking
    }
  }
  try {
    return execaSync('sh', ['-c', `command -v ${name}`]).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns whether the tool is there. Under CI a missing tool throws (the test fails);
 * locally it returns false and the suite can skip with `install` named in the message.
 */
export function requireTool(name: string, install: string, extraDirs: string[] = []): boolean {
  const found = findTool(name, extraDirs);
  if (found) return true;
  if (IN_CI) throw new Error(`${name} is required under CI but missing; install it with: ${install}`);
  console.warn(`skipping: ${name} is missing; install it with: ${install}`);
  return false;
}

// The local runner finds a program by name on PATH once a run: real scripts in real folders, started for real.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createContainment } from '../../src/exec/containment.js';
import { createLocalRunner, type LocalRunner } from '../../src/exec/local.js';

let dir: string;
let runner: LocalRunner | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rearguard-local-runner-'));
});
afterEach(async () => {
  await runner?.close();
  runner = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function script(folder: string, name: string, body: string): Promise<string> {
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

describe('the local runner', () => {
  it('keeps for the whole run the program it found for a name, and says "program not found" once that file is gone', async () => {
    const first = path.join(dir, 'first');
    const second = path.join(dir, 'second');
    await mkdir(first);
    const found = await script(second, 'backup-tool', 'echo second');
    const env = { PATH: `${first}:${second}:/usr/bin:/bin` };
    const spec = { argv: ['backup-tool'], env, timeoutMs: 30_000, killGraceMs: 300 };
    runner = createLocalRunner({ containment: createContainment({ cgroups: false }) });

    expect((await runner(spec)).output).toBe('second\n');
    // A program of the same name that appears earlier on PATH during the run is not looked for again.
    await script(first, 'backup-tool', 'echo first');
    expect((await runner(spec)).output).toBe('second\n');
    // The next run looks again.
    const next = createLocalRunner({ containment: createContainment({ cgroups: false }) });
    expect((await next(spec)).output).toBe('first\n');
    await next.close();

    await rm(found);
    const gone = await runner(spec);
    expect(gone.exitCode).toBeNull();
    expect(gone.startError).toBe('could not start backup-tool: program not found');
  });
});

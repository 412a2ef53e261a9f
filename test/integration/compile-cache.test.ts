// bin/rearguard keeps the CLI's compiled code in a per-user cache where Node offers one (22.1+), and leaves no
// trace where it does not (Node 20) or where it is turned off. CI runs this under Node 20, 22 and 24.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import module from 'node:module';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { BIN, makeWorkspace, type Workspace } from '../helpers/cli.js';

const supported = typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

// The CLI with the caller's environment minus Node's own compile-cache variables, plus `env`: Node reads them
// when it starts, and an empty NODE_DISABLE_COMPILE_CACHE already turns the cache off.
async function version(env: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _off, ...inherited } = process.env;
  const result = await execa(process.execPath, [BIN, '--version'], { cwd: ws.dir, reject: false, extendEnv: false, env: { ...inherited, ...env } });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('the compile cache of bin/rearguard', () => {
  it(`${supported ? 'is kept under XDG_CACHE_HOME/rearguard/compile-cache' : 'is not made'} on Node ${process.versions.node}, and a second run answers the same`, async () => {
    const env = { XDG_CACHE_HOME: ws.file('cache') };
    const first = await version(env);
    const second = await version(env);
    expect(first.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe('');
    const files = await filesUnder(ws.file('cache/rearguard/compile-cache'));
    if (supported) expect(files.length).toBeGreaterThan(0);
    else expect(existsSync(ws.file('cache'))).toBe(false);
  });

  it(`${supported ? 'keeps one folder per release and removes those of other releases unused for 30 days' : 'leaves the folders of other releases alone where there is no cache'}`, async () => {
    const root = ws.file('cache/rearguard/compile-cache');
    const release = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
    const old = path.join(root, '0.0.1-old');
    const recent = path.join(root, '0.0.2-recent');
    for (const folder of [old, recent]) {
      await mkdir(path.join(folder, 'v0-x64'), { recursive: true });
      await writeFile(path.join(folder, 'v0-x64', 'entry'), 'compiled');
    }
    const daysAgo = (days: number): Date => new Date(Date.now() - days * 24 * 60 * 60 * 1000);
    await utimes(old, daysAgo(31), daysAgo(31));
    await utimes(recent, daysAgo(29), daysAgo(29));
    const result = await version({ XDG_CACHE_HOME: ws.file('cache') });
    expect(result.exitCode).toBe(0);
    expect(existsSync(old)).toBe(!supported);
    expect(existsSync(recent)).toBe(true);
    expect((await filesUnder(path.join(root, release))).length > 0).toBe(supported);
  });

  it('is not made when NODE_DISABLE_COMPILE_CACHE=1', async () => {
    const result = await version({ XDG_CACHE_HOME: ws.file('cache'), NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(result.exitCode).toBe(0);
    expect(await filesUnder(ws.file('cache'))).toEqual([]);
  });

  it('goes where NODE_COMPILE_CACHE says, when it is set', async () => {
    const result = await version({ XDG_CACHE_HOME: ws.file('cache'), NODE_COMPILE_CACHE: ws.file('elsewhere') });
    expect(result.exitCode).toBe(0);
    expect(await filesUnder(ws.file('cache'))).toEqual([]);
    expect((await filesUnder(ws.file('elsewhere'))).length > 0).toBe(supported);
  });
});

// Mirror folders as artifacts, with real find and rsync: freshness, size and file count, and the comparison with the source.
import { utimes } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maxAgeCheck } from '../../checks/max-age.js';
import { repositoryCheck } from '../../checks/repository.js';
import { treeSource, type TreeOptions } from '../../sources/tree.js';
import type { VerifyDepth } from '../../src/contract/source.js';
import { createExec } from '../../src/exec/index.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { entriesOf, writeRandomFiles } from '../helpers/repos.js';

const available = requireTool('rsync', 'apt-get install rsync');

describe.runIf(available)('tree artifacts', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await makeWorkspace();
    await writeRandomFiles(ws.file('source/a'), 2, 1000);
    await ws.write('source/b/notes.txt', 'notes\n');
    await writeRandomFiles(ws.file('mirror/a'), 0, 0);
  });
  afterEach(async () => {
    await ws?.cleanup();
  });

  const withSource = async <T>(options: TreeOptions, use: (ctx: Parameters<typeof treeSource.locate>[0]) => Promise<T>): Promise<T> => {
    const exec = createExec({ hosts: {}, stateDir: ws.file('state'), cgroups: false });
    try {
      return await use({ options, exec, signal: new AbortController().signal, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 60_000 });
    } finally {
      await exec.close();
    }
  };
  const mirrorNow = async (): Promise<void> => {
    const { execa } = await import('execa');
    await execa('rsync', ['-a', '--delete', `${ws.file('source')}/`, `${ws.file('mirror')}/`]);
  };
  const compare = (options: TreeOptions, depth: VerifyDepth = {}) =>
    withSource(options, async (ctx) => {
      const location = await treeSource.locate(ctx);
      if (!location.found) throw new Error(location.message);
      const backup = location.backup;
      const target = { unit: 'mirror', pattern: 'tree', located: backup, unitTimeoutMs: 60_000, facts: {}, history: { read: async () => [] }, source: { verify: (d: VerifyDepth) => treeSource.verify!(ctx, backup, d) } };
      return repositoryCheck.run({ ...ctx, options: depth, command: 'verify', runId: 'r', hosts: {}, systemctl: [], tempDir: ws.dir, now: Date.now }, target);
    });
  const options = (extra: Partial<TreeOptions> = {}): TreeOptions => ({ path: ws.file('mirror'), compareWith: ws.file('source'), tolerance: 0, ...extra });

  it('locates a mirror: file count and total bytes, completed at its newest file or its stamp', async () => {
    await mirrorNow();
    await utimes(ws.file('mirror/b/notes.txt'), 1_700_000_100, 1_700_000_100);
    await utimes(ws.file('mirror/a/file-0.bin'), 1_700_000_000, 1_700_000_000);
    await utimes(ws.file('mirror/a/file-1.bin'), 1_700_000_000, 1_700_000_000);
    const located = await withSource(options(), (ctx) => treeSource.locate(ctx));
    expect(located).toEqual({ found: true, backup: { id: ws.file('mirror'), location: `tree ${ws.file('mirror')} (3 files)`, completedAtMs: 1_700_000_100_000, bytes: 2006, files: 3 } });
    const stamp = await ws.write('mirror.done', '');
    await utimes(stamp, 1_700_000_200.5, 1_700_000_200.5);
    const stamped = await withSource(options({ stamp }), (ctx) => treeSource.locate(ctx));
    expect(stamped.found && stamped.backup.completedAtMs).toBe(1_700_000_200_500);
    const missing = await withSource(options({ path: ws.file('nope') }), (ctx) => treeSource.locate(ctx));
    expect(missing).toMatchObject({ found: false, message: expect.stringMatching(/^cannot read the mirror .*nope: find exited with 1: .*check that the folder exists and is readable$/) });
  });

  it('a mirror whose newest file is older than max_age fails max_age', async () => {
    await mirrorNow();
    for (const file of ['a/file-0.bin', 'a/file-1.bin', 'b/notes.txt']) await utimes(ws.file(`mirror/${file}`), 1_700_000_000, 1_700_000_000);
    const located = await withSource(options(), (ctx) => treeSource.locate(ctx));
    if (!located.found) throw new Error(located.message);
    const facts = { file: located.backup.location, mtimeMs: located.backup.completedAtMs, bytes: located.backup.bytes };
    const outcome = await maxAgeCheck.run({ options: { maxAgeMs: 3_600_000 }, now: Date.now } as never, { facts } as never);
    expect(outcome.message).toMatch(/older than|ago/);
    expect(outcome.status).toBe('failed');
  });

  it('compare_with: an exact mirror passes; missing, extra and changed files fail past the tolerance', async () => {
    await mirrorNow();
    expect(await compare(options())).toMatchObject({ status: 'ok', message: expect.stringMatching(/matches .*: 0 missing, 0 extra, 0 changed \(tolerance 0\)$/) });
    await ws.write('source/b/new.txt', 'new\n');
    await ws.write('mirror/b/stray.txt', 'stray\n');
    await ws.write('mirror/a/file-0.bin', 'truncated');
    const differs = await compare(options());
    expect(differs.status).toBe('failed');
    expect(differs.message).toMatch(/differs from .*: 1 missing, 1 extra, 1 changed, more than the tolerance of 0/);
    expect(differs.details).toEqual(['missing: b/new.txt', 'extra: b/stray.txt', 'changed: a/file-0.bin']);
    expect((await compare(options({ tolerance: 3 }))).status).toBe('ok');
  });

  it('--checksum catches same-size, same-time corruption that the quick comparison cannot see', async () => {
    await mirrorNow();
    const { stat, writeFile, readFile } = await import('node:fs/promises');
    const file = ws.file('mirror/a/file-1.bin');
    const before = await stat(file);
    const bytes = await readFile(file);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    await utimes(file, before.atime, before.mtime);
    expect((await compare(options())).status).toBe('ok');
    const deep = await compare(options(), { readData: { percent: 100 } });
    expect(deep.status).toBe('failed');
    expect(deep.message).toMatch(/0 missing, 0 extra, 1 changed \(by checksum\)/);
  });

  it('restore copies the mirror into the scratch folder, or only the include paths', async () => {
    await mirrorNow();
    await ws.write('scratch/.keep', '');
    const { mkdtemp } = await import('node:fs/promises');
    const dir = await mkdtemp(ws.file('scratch/r-'));
    const outcome = await withSource(options(), (ctx) => treeSource.restore!(ctx, { id: 'x', location: 'x', completedAtMs: 0, bytes: 0 }, dir, ['b']));
    expect(outcome.ok).toBe(true);
    expect(await entriesOf(dir)).toEqual(['b']);
    expect(await entriesOf(`${dir}/b`)).toEqual(['notes.txt']);
  });

  it('a mirror that lost most of its files fails size on the file count, though its bytes barely shrank', async () => {
    // One large file and twenty small ones: losing the small ones takes 95% of the files and 2% of the bytes.
    await writeRandomFiles(ws.file('source/big'), 1, 100_000);
    await writeRandomFiles(ws.file('source/small'), 20, 100, 'note');
    await ws.write(
      'rearguard.yml',
      `version: 1
stages:
  - name: s
    units:
      - name: mirror
        run: [sh, -c, "rsync -a --delete source/ mirror/ && touch mirror.done"]
        critical: true
        artifacts:
          - tree: { path: mirror, stamp: mirror.done }
            size: { max_shrink: 50% }
`,
    );
    const first = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(first.exitCode, first.stdout).toBe(0);
    const { rm } = await import('node:fs/promises');
    await rm(ws.file('source/small'), { recursive: true });
    const lost = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(lost.exitCode).toBe(2);
    const size = (await ws.readJson('r.json')).stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'size');
    expect(size).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/^4 file\(s\): the count shrank 83% against the median 24 file\(s\) of the last 1 verified count\(s\) \(window 14\); max_shrink is 50%, so at least 12 were expected/),
    });
  });
});

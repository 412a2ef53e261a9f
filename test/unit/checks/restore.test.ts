// The restore check on real archives: a full restore with every rule, evil entries refused, scratch always removed.
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreCheck } from '../../../checks/restore.js';
import { checkScratchRoom } from '../../../checks/restore/scratch.js';
import { gzipBytes, makeCheckContext, makeTar, makeTarget, sha256Sums, sqliteBytes, type TarEntry, selectFor } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

type RestoreOptions = import('../../../checks/restore/run-rules.js').RestoreOptions;

let ws: Workspace;
let scratch: string;
beforeEach(async () => {
  ws = await makeWorkspace();
  scratch = ws.file('scratch');
  await mkdir(scratch);
});
afterEach(async () => {
  await ws.cleanup();
});

async function goodFiles(): Promise<Record<string, string | Buffer>> {
  const files: Record<string, string | Buffer> = {
    'database.sql.gz': gzipBytes('CREATE TABLE t (x);\nINSERT INTO t VALUES (1);\n'),
    'app.sqlite3': await sqliteBytes(ws.dir),
    'MANIFEST.json': '{"created":"2026-11-21T21:00:00Z"}',
    'config/settings.json': '{"a":1}',
  };
  return { ...files, SHA256SUMS: sha256Sums(files) };
}

async function restore(entries: TarEntry[] | Record<string, string | Buffer>, options: Partial<RestoreOptions> = {}, timeoutMs = 30_000, signal?: AbortSignal) {
  const file = await makeTar(ws.file('backup.tar.gz'), { entries });
  const ctx = makeCheckContext<RestoreOptions>({ scratch, ...options }, { tempDir: ws.file('scratch'), ...(signal && { signal }) });
  return restoreCheck.run(ctx, await makeTarget(file, { unitTimeoutMs: timeoutMs }));
}

const allRules: Partial<RestoreOptions> = {
  sqlite: '**/*.{db,sqlite,sqlite3}',
  gzip: '**/*.gz',
  json: '**/*.json',
  sha256sums: 'SHA256SUMS',
  command: ['sh', '-c', 'test -f MANIFEST.json && test "$(stat -c %a "$REARGUARD_RESTORE_DIR")" = 700'],
};

describe('restore check: a sound archive', () => {
  it('restores into a private folder, passes every rule, and removes the scratch folder', async () => {
    const outcome = await restore(await goodFiles(), allRules);
    expect(outcome.message).toContain('restored 5 entries');
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toContain('sqlite: 1 file(s) ok');
    expect(outcome.message).toContain('gzip: 1 file(s) ok');
    expect(outcome.message).toContain('json: 2 file(s) ok');
    expect(outcome.message).toContain('sha256sums: 4 file(s) match SHA256SUMS');
    expect(outcome.message).toContain('command: sh -c');
    expect(await readdir(scratch)).toEqual([]);
  });

  it('allows links that stay inside the tree', async () => {
    const entries: TarEntry[] = [
      { path: 'data/', type: 'Directory' },
      { path: 'data/real.json', body: '{}' },
      { path: 'data/current.json', type: 'SymbolicLink', linkpath: 'real.json' },
      { path: 'top.json', type: 'SymbolicLink', linkpath: 'data/../data/real.json' },
      { path: 'hard.json', type: 'Link', linkpath: 'data/real.json' },
    ];
    const outcome = await restore(entries, { json: '**/*.json' });
    expect(outcome.message).toContain('json: 2 file(s) ok');
    expect(outcome.status).toBe('ok');
  });

  it('is chosen for orchestrate and restore-test only', () => {
    const raw = { path: 'x', restore: { json: '*.json', level: 'warning' } };
    expect(selectFor(restoreCheck, raw, 'orchestrate')).toEqual({ options: { json: '*.json' }, level: 'warning' });
    expect(selectFor(restoreCheck, raw, 'restore-test')?.level).toBe('warning');
    expect(selectFor(restoreCheck, raw, 'verify')).toBeUndefined();
    expect(selectFor(restoreCheck, raw, 'audit')).toBeUndefined();
  });
});

describe('restore check: evil archives are refused and nothing lands outside', () => {
  const evil: Array<[string, TarEntry[], string]> = [
    ['a "../" path', [{ path: '../escaped.txt', body: 'x' }], 'path climbs out with ".."'],
    ['a nested "../" path', [{ path: 'a/../../escaped.txt', body: 'x' }], 'path climbs out'],
    ['an absolute path', [{ path: '/tmp/rearguard-evil-absolute.txt', body: 'x' }], 'absolute path'],
    ['a symlink to an absolute path', [{ path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }], 'symbolic link to the absolute path /etc/passwd'],
    ['a symlink climbing out', [{ path: 'up', type: 'SymbolicLink', linkpath: '../../..' }], 'points outside the restored tree'],
    [
      'a chain of symlinks that only escapes once followed',
      [
        { path: 'd/', type: 'Directory' },
        { path: 'd/l1', type: 'SymbolicLink', linkpath: '..' },
        { path: 'd/l2', type: 'SymbolicLink', linkpath: 'l1/../escaped.txt' },
      ],
      'points outside the restored tree',
    ],
    [
      'a file written through a symlink',
      [
        { path: 'sub/', type: 'Directory' },
        { path: 'via', type: 'SymbolicLink', linkpath: 'sub' },
        { path: 'via/file.txt', body: 'x' },
      ],
      'would be written through the symbolic link via',
    ],
    ['a hard link outside', [{ path: 'h', type: 'Link', linkpath: '../escaped.txt' }], 'hard link to ../escaped.txt, outside'],
    ['a hard link to an absolute path', [{ path: 'h', type: 'Link', linkpath: '/etc/passwd' }], 'hard link to /etc/passwd, outside'],
    ['a FIFO', [{ path: 'pipe', type: 'FIFO' }], 'FIFO'],
    ['a character device', [{ path: 'null', type: 'CharacterDevice' }], 'device file (CharacterDevice)'],
    ['a block device', [{ path: 'sda', type: 'BlockDevice' }], 'device file (BlockDevice)'],
  ];
  for (const [name, entries, reason] of evil) {
    it(`refuses ${name}`, async () => {
      const outcome = await restore([{ path: 'ok.txt', body: 'fine' }, ...entries], { json: '**/*.json' });
      expect(outcome.status).toBe('failed');
      expect(outcome.message).toContain('refused to restore');
      expect(outcome.message).toContain('nothing was extracted');
      expect(outcome.details?.join('\n')).toContain(reason);
      expect(existsSync(ws.file('escaped.txt'))).toBe(false);
      expect(existsSync('/tmp/rearguard-evil-absolute.txt')).toBe(false);
      expect(await readdir(scratch)).toEqual([]);
    });
  }
});

describe('restore check: rules over the restored tree', () => {
  it('fails when a file does not match the inner SHA256SUMS, naming it', async () => {
    const files = await goodFiles();
    files['config/settings.json'] = '{"a":2}';
    const outcome = await restore(files, { sha256sums: 'SHA256SUMS' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('sha256sums failed');
    expect(outcome.message).toMatch(/config\/settings\.json hashes to [0-9a-f]{64}, SHA256SUMS says/);
  });

  it('fails when SHA256SUMS lists a file the archive lacks', async () => {
    const files = await goodFiles();
    delete files['MANIFEST.json'];
    const outcome = await restore(files, { sha256sums: 'SHA256SUMS' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('MANIFEST.json is listed in SHA256SUMS but missing from the archive');
  });

  it('fails an empty SHA256SUMS and a missing one', async () => {
    const empty = await restore({ 'a.txt': 'x', SHA256SUMS: '' }, { sha256sums: 'SHA256SUMS' });
    expect(empty.status).toBe('failed');
    expect(empty.message).toContain('lists no files: an empty list proves nothing');
    const missing = await restore({ 'a.txt': 'x' }, { sha256sums: 'SHA256SUMS' });
    expect(missing.message).toContain('SHA256SUMS is not in the archive');
  });

  it('fails a truncated inner .gz and one that decompresses to nothing', async () => {
    const outcome = await restore(
      { 'db.sql.gz': gzipBytes('x'.repeat(5000) + Math.random(), { truncateAt: 0.5 }), 'empty.gz': gzipBytes('') },
      { gzip: '**/*.gz' },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.details?.join('\n')).toContain('db.sql.gz is truncated');
    expect(outcome.details?.join('\n')).toContain('empty.gz decompresses to 0 bytes');
  });

  it('fails a corrupted inner SQLite database', async () => {
    const outcome = await restore({ 'app.db': await sqliteBytes(ws.dir, { corrupt: 'page' }) }, { sqlite: '**/*.db' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('app.db');
    expect(outcome.message).toMatch(/corrupted|malformed/);
  });

  it('fails JSON that does not parse', async () => {
    const outcome = await restore({ 'MANIFEST.json': '{"cut": ' }, { json: '**/*.json' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('MANIFEST.json does not parse as JSON');
  });

  it('fails a rule whose glob matches nothing', async () => {
    const outcome = await restore({ 'a.txt': 'x' }, { sqlite: '**/*.db' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('no file in the restored tree matches "**/*.db"');
  });

  it('fails a command that exits non-zero, with its output, and does not run it after a failed rule', async () => {
    const failing = await restore({ 'a.txt': 'x' }, { command: ['sh', '-c', 'echo "pg_restore: error: input file is too short" >&2; exit 1'] });
    expect(failing.status).toBe('failed');
    expect(failing.message).toContain('exited with 1');
    expect(failing.details?.join('\n')).toContain('input file is too short');
    const skipped = await restore({ 'a.json': '{' }, { json: '*.json', command: ['true'] });
    expect(skipped.details?.join('\n')).toContain('command: not run');
  });

  it("stops a command at the unit's timeout", async () => {
    const outcome = await restore({ 'a.txt': 'x' }, { command: ['sleep', '30'] }, 500);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('timed out after 500ms');
    expect(await readdir(scratch)).toEqual([]);
  });

  it('removes the scratch folder when the run is aborted mid-command', async () => {
    const controller = new AbortController();
    const running = restore({ 'a.txt': 'x' }, { command: ['sleep', '30'] }, 30_000, controller.signal);
    for (let i = 0; i < 100 && (await readdir(scratch)).length === 0; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(scratch)).length).toBe(1);
    controller.abort('SIGTERM');
    const outcome = await running;
    expect(outcome.status).toBe('failed');
    expect(await readdir(scratch)).toEqual([]);
  });
});

describe('restore check: names, collisions and links judged on the stream', () => {
  it('fails two entries that land on one path, naming both', async () => {
    const outcome = await restore([{ path: 'a.json', body: '{}' }, { path: './a.json', body: '{"b":1}' }], { json: '**/*.json' });
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('1 entry lands on a path another entry already took');
    expect(outcome.details?.join('\n')).toContain('./a.json: lands on the same path as entry 1');
    expect(await readdir(scratch)).toEqual([]);
  });

  it('judges a hard link by its target even when the glob matches only the link', async () => {
    const good = await restore([{ path: 'data.bin', body: '{"ok":true}' }, { path: 'view.json', type: 'Link', linkpath: 'data.bin' }], { json: '**/*.json' });
    expect(good.message).toContain('json: 1 file(s) ok');
    expect(good.status).toBe('ok');
    const bad = await restore([{ path: 'data.bin', body: '{"cut":' }, { path: 'view.json', type: 'Link', linkpath: 'data.bin' }], { json: '**/*.json' });
    expect(bad.status).toBe('failed');
    expect(bad.message).toContain('view.json does not parse as JSON');
  });

  it('hashes a sha256sums entry reached through a symbolic link of the archive', async () => {
    const body = 'payload\n';
    const entries: TarEntry[] = [
      { path: 'real/', type: 'Directory' },
      { path: 'real/file.txt', body },
      { path: 'current', type: 'SymbolicLink', linkpath: 'real' },
      { path: 'SHA256SUMS', body: sha256Sums({ 'current/file.txt': body }) },
    ];
    const outcome = await restore(entries, { sha256sums: 'SHA256SUMS' });
    expect(outcome.message).toContain('sha256sums: 1 file(s) match SHA256SUMS');
    expect(outcome.status).toBe('ok');
  });
});

describe('restore scratch room', () => {
  it('refuses a restore larger than the free space, and a scratch folder that does not exist', async () => {
    expect(await checkScratchRoom(scratch, Number.MAX_SAFE_INTEGER)).toMatch(/not enough room to restore: .* free, the archive needs/);
    expect(await checkScratchRoom(scratch, 1024)).toBeUndefined();
    expect(await checkScratchRoom(ws.file('nope'), 1)).toContain('does not exist');
  });
});

// The sha256sums rule over a restored tree (what a repository's restore wrote): its files hash on the hash pool, several at once.
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkSha256SumsRule, type RuleContext } from '../../../checks/restore/tree-rules.js';
import { sharedHashPool } from '../../../src/util/hash-pool.js';
import { sha256Sums } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await mkdir(ws.file('tree/data'), { recursive: true });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await ws.cleanup();
});

/** Files of distinct content, big enough that a hash is still running when the next one starts. */
function parts(count: number): Record<string, Buffer> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`part-${i}.bin`, Buffer.alloc(2 * 1024 * 1024, i + 1)]));
}

async function writeTree(files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(ws.file(`tree/data/${name}`), content);
}

function ruleContext(signal = new AbortController().signal): RuleContext {
  return { tree: ws.file('tree'), signal, tempDir: ws.dir, timeoutMs: 30_000 };
}

/** Counts the pool's hashes and the most that ran at once. */
function watchPool(onCall?: () => void): { calls: number; most: number } {
  const pool = sharedHashPool();
  const original = pool.hashFile.bind(pool);
  const seen = { calls: 0, most: 0 };
  let running = 0;
  vi.spyOn(pool, 'hashFile').mockImplementation((file, options) => {
    seen.calls += 1;
    running += 1;
    seen.most = Math.max(seen.most, running);
    onCall?.();
    return original(file, options).finally(() => {
      running -= 1;
    });
  });
  return seen;
}

describe('sha256sums over a restored tree', () => {
  it('hashes the listed files on the hash pool, as many at once as it has workers, and passes a matching list', async () => {
    const files = parts(8);
    await writeTree({ ...files, SHA256SUMS: sha256Sums(files) });
    const seen = watchPool();
    const outcome = await checkSha256SumsRule('data/SHA256SUMS', ruleContext());
    expect(outcome).toMatchObject({ rule: 'sha256sums', ok: true, summary: 'sha256sums: 8 file(s) match data/SHA256SUMS', problems: [] });
    expect(seen.calls).toBe(8);
    expect(seen.most).toBe(Math.min(sharedHashPool().size, 8));
  });

  it("names every problem in the list's order, whichever hash finishes first", async () => {
    const files = parts(10);
    const list = sha256Sums(files).split('\n');
    // A line for a file the restore did not write, and one that climbs out of the tree, among the others.
    list.splice(3, 0, `${'0'.repeat(64)}  gone.bin`);
    list.splice(7, 0, `${'1'.repeat(64)}  ../outside.bin`);
    // Two files changed after the list was made: the first one listed is the biggest, so it finishes last.
    const changed = { ...files, 'part-1.bin': Buffer.alloc(16 * 1024 * 1024, 0xee), 'part-8.bin': Buffer.from('changed') };
    await writeTree({ ...changed, SHA256SUMS: list.join('\n') });
    const outcome = await checkSha256SumsRule('data/SHA256SUMS', ruleContext());
    expect(outcome.ok).toBe(false);
    expect(outcome.problems.map((problem) => problem.replace(/ hashes to [0-9a-f]{64}, .*/, ' hashes to another sha256'))).toEqual([
      'sha256sums: part-1.bin hashes to another sha256',
      'sha256sums: gone.bin is listed in data/SHA256SUMS but missing from the archive',
      'sha256sums: ../outside.bin is outside the restored tree',
      'sha256sums: part-8.bin hashes to another sha256',
    ]);
    expect(outcome.summary).toBe('sha256sums: 4 problem(s) against data/SHA256SUMS');
  });

  it('stops every hash when the run is aborted, and starts no more', async () => {
    const files = parts(12);
    await writeTree({ ...files, SHA256SUMS: sha256Sums(files) });
    const abort = new AbortController();
    const seen = watchPool(() => abort.abort('SIGTERM'));
    const failure = await checkSha256SumsRule('data/SHA256SUMS', ruleContext(abort.signal)).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('AbortError');
    // The hashes already handed to the pool when the abort came, and none after it.
    expect(seen.calls).toBeLessThanOrEqual(sharedHashPool().size);
  });
});

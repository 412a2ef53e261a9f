// The archive check on real tar files: read to the end, truncation and CRC errors caught, expected entries present.
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveCheck } from '../../../checks/archive.js';
import { makeCheckContext, makeTar, makeTarget } from '../../helpers/fixtures.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

// Incompressible enough that truncating the gzip cuts into the data, not only the trailer.
const dump = Array.from({ length: 4000 }, (_, i) => `INSERT INTO t VALUES (${i}, '${(i * 7919).toString(36)}');`).join('\n');
const entries = { 'database.sql': dump, 'MANIFEST.json': '{"files":2}', 'uploads/a.txt': 'hello' };

async function check(file: string, expect: string[] = []) {
  return archiveCheck.run(makeCheckContext({ expect }), await makeTarget(file));
}

describe('archive check', () => {
  it('passes a sound tar.gz and counts its entries', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries });
    const outcome = await check(file, ['database.sql', 'MANIFEST.json']);
    expect(outcome.status).toBe('ok');
    expect(outcome.message).toContain('3 entries');
    expect(outcome.message).toContain('2 expected entries present');
  });

  it('passes a plain (uncompressed) tar', async () => {
    const file = await makeTar(ws.file('b.tar'), { entries, gzip: false });
    expect((await check(file)).status).toBe('ok');
  });

  it('fails a truncated tar.gz', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries, truncateAt: 0.6 });
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('cannot be read to its end');
    expect(outcome.message).toContain('truncated');
  });

  it('fails a truncated plain tar', async () => {
    const file = await makeTar(ws.file('b.tar'), { entries, gzip: false, truncateAt: 0.5 });
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('truncated');
  });

  it('fails a gzip whose CRC does not match', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries, corruptCrc: true });
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('gzip data is corrupted');
  });

  it('fails an archive without entries', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries: [] });
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toMatch(/holds no entries|no data/);
  });

  it('fails an archive whose files are all empty', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries: { 'database.sql': '', 'MANIFEST.json': '' } });
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('the backup is empty');
  });

  it('fails a gzip that is not a tar', async () => {
    const { gzipBytes } = await import('../../helpers/fixtures.js');
    const file = await ws.write('b.tar.gz', gzipBytes('just a SQL dump, no tar headers\n'.repeat(40)));
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('not a tar or tar.gz archive');
  });

  it('names expected entries that are missing or empty', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries: { ...entries, 'application.tar.gz': '' } });
    const outcome = await check(file, ['database.sql', 'application.tar.gz', 'uploads.tar.gz']);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('application.tar.gz (empty (0 bytes))');
    expect(outcome.message).toContain('uploads.tar.gz (missing)');
    expect(outcome.message).not.toContain('database.sql (');
  });

  it('matches expected entries written with "./" and by glob', async () => {
    const file = await makeTar(ws.file('b.tar.gz'), { entries: { './db/database.sql': dump } });
    expect((await check(file, ['db/database.sql', '**/*.sql'])).status).toBe('ok');
  });

  it('names an entry of a type the reader cannot represent instead of dropping it', async () => {
    const file = await makeTar(ws.file('b.tar'), { entries: { 'a.txt': 'hello', 'odd.bin': 'x' }, gzip: false });
    // The second header follows a.txt's header and data block.
    await patchHeader(file, 1024, (header) => (header[156] = 'Z'.charCodeAt(0)));
    const outcome = await check(file);
    expect(outcome.status).toBe('failed');
    expect(outcome.message).toContain('entry 2 ("odd.bin")');
  });

  it('matches expected entries by the bytes of their names and shows them escaped', async () => {
    const file = await makeTar(ws.file('b.tar'), { entries: { 'cafX.sql': dump }, gzip: false });
    await patchHeader(file, 0, (header) => (header[3] = 0xe9));
    expect((await check(file, ['caf*.sql'])).status).toBe('ok');
    const missing = await check(file, ['café.sql']);
    expect(missing.message).toContain('café.sql (missing)');
    expect(missing.details).toEqual([`caf\\xE9.sql (${dump.length} bytes)`]);
  });
});

/** Changes the tar header at `offset` of `file` in place, then gives it a valid checksum again. */
async function patchHeader(file: string, offset: number, change: (header: Buffer) => void): Promise<void> {
  const bytes = await readFile(file);
  const header = bytes.subarray(offset, offset + 512);
  change(header);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await writeFile(file, bytes);
}

// The archive check on real tar files: read to the end, truncation and CRC errors caught, expected entries present.
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
});

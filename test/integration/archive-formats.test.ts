// archive, checksum and restore on what GNU tar writes: zstd and xz by their magic bytes, cuts at entry boundaries,
// sparse disk images, names that are not UTF-8, and one read of the archive shared by the three checks.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyArtifact } from '../../src/engine/verify-artifact.js';
import { planArtifact } from '../../src/plan/build-plan.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { artifactFrom, makeCheckContext, makeTar, sha256Sums } from '../helpers/fixtures.js';
import { requireTool } from '../helpers/require-tool.js';

const available = [
  ['tar', 'apt-get install tar'],
  ['zstd', 'apt-get install zstd'],
  ['xz', 'apt-get install xz-utils'],
].every(([tool, install]) => requireTool(tool!, install!));

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await mkdir(ws.file('scratch'));
  await mkdir(ws.file('backups'));
});
afterEach(async () => {
  await ws.cleanup();
});

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

async function run(artifact: string, command: string): Promise<{ exitCode: number; verdictLine: string; report: any }> {
  const config = `version: 1
stages:
  - name: s
    units:
      - name: made-by-a-timer
        run: ["false"]
        artifacts:
${artifact
  .split('\n')
  .map((line) => `          ${line}`)
  .join('\n')}
`;
  await ws.write('rearguard.yml', config);
  const result = await runCli([command, '--json', 'r.json'], { cwd: ws.dir });
  return { ...result, report: existsSync(ws.file('r.json')) ? await ws.readJson('r.json') : undefined };
}

const checksOf = (report: any): any[] => report.stages[0].units[0].artifacts[0].checks;
const checkOf = (report: any, id: string): any => checksOf(report).find((c: any) => c.id === id);

/** A source folder with what an application backup holds, and its SHA256SUMS. */
async function appTree(dir: string): Promise<void> {
  const files: Record<string, string | Buffer> = {
    'MANIFEST.json': '{"version":1}',
    'database.sql.gz': gzipSync('CREATE TABLE t (x);\n'.repeat(200)),
  };
  await mkdir(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(dir, name), body);
  await writeFile(path.join(dir, 'SHA256SUMS'), sha256Sums(files));
}

async function withSidecar(file: string): Promise<void> {
  await writeFile(`${file}.sha256`, `${sha256(readFileSync(file))}  ${path.basename(file)}\n`);
}

describe.runIf(available)('zstd and xz archives, told by their magic bytes', () => {
  const artifact = (glob: string): string => `- path: ${glob}
  checksum: sidecar
  archive: { expect: [MANIFEST.json, database.sql.gz] }
  restore: { gzip: "**/*.gz", json: "**/*.json", sha256sums: SHA256SUMS, command: [test, -s, database.sql.gz], scratch: scratch }`;

  for (const [name, flag, file] of [
    ['a zstd tar named .tar.gz', '--zstd', 'backups/app-1.tar.gz'],
    ['an xz tar', '--xz', 'backups/app-1.tar.xz'],
  ] as const) {
    it(`verify and restore-test pass ${name}`, async () => {
      await appTree(ws.file('src'));
      await execa('tar', [flag, '-cf', ws.file(file), '-C', ws.file('src'), '.']);
      await withSidecar(ws.file(file));
      const glob = file.replace('app-1', 'app-*');
      const verify = await run(artifact(glob), 'verify');
      expect(checksOf(verify.report).map((c: any) => [c.id, c.status])).toEqual([
        ['exists', 'ok'],
        ['checksum', 'ok'],
        ['archive', 'ok'],
      ]);
      expect(checkOf(verify.report, 'archive').message).toContain(flag === '--zstd' ? '(zstd)' : '(xz)');
      expect(verify.exitCode).toBe(0);
      const restore = await run(artifact(glob), 'restore-test');
      expect(restore.exitCode).toBe(0);
      expect(checkOf(restore.report, 'restore').message).toContain('sha256sums: 2 file(s) match SHA256SUMS');
      expect(checkOf(restore.report, 'restore').message).toContain('gzip: 1 file(s) ok');
      expect(checkOf(restore.report, 'restore').message).toContain('command: test -s database.sql.gz: exit 0');
      expect(await readdir(ws.file('scratch'))).toEqual([]);
    });
  }

  it('a corrupted zstd stream fails archive with what zstd said', async () => {
    await appTree(ws.file('src'));
    await execa('tar', ['--zstd', '-cf', ws.file('backups/app-1.tar.zst'), '-C', ws.file('src'), '.']);
    const bytes = readFileSync(ws.file('backups/app-1.tar.zst'));
    await writeFile(ws.file('backups/app-1.tar.zst'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const { exitCode, report } = await run('- path: backups/app-*.tar.zst\n  archive: true', 'verify');
    expect(exitCode).toBe(2);
    expect(checkOf(report, 'archive').message).toMatch(/cannot be read to its end: the zstd stream is truncated or corrupted/);
  });
});

describe('a tar cut at an entry boundary', () => {
  it('fails archive even when the gzip stream around it is intact, saying where it ends', async () => {
    const entries = { 'a.txt': 'a'.repeat(100), 'b.txt': 'b'.repeat(600), 'c.txt': 'c'.repeat(10) };
    const tar = readFileSync(await makeTar(ws.file('whole.tar'), { entries, gzip: false }));
    // a.txt: header + 1 block; b.txt: header + 2 blocks; c.txt's header starts at byte 2560.
    await writeFile(ws.file('backups/app-1.tar.gz'), gzipSync(tar.subarray(0, 2560)));
    const { exitCode, verdictLine, report } = await run('- path: backups/app-*.tar.gz\n  archive: true', 'verify');
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical/);
    expect(checkOf(report, 'archive').message).toContain('the archive ends without its end-of-archive marker after 2 entries, at byte 2560');
  });

  it('passes a tar that ends with a lone zero block, with the warning in details', async () => {
    const tar = readFileSync(await makeTar(ws.file('whole.tar'), { entries: { 'a.txt': 'hello' }, gzip: false }));
    await writeFile(ws.file('backups/app-1.tar'), tar.subarray(0, tar.length - 512));
    const { exitCode, report } = await run('- path: backups/app-*.tar\n  archive: true', 'verify');
    expect(exitCode).toBe(0);
    expect(checkOf(report, 'archive').details.join('\n')).toContain('a lone zero block at byte 1024 ends the archive');
  });
});

describe.runIf(available)('sparse files and names as bytes', () => {
  it('restores a GNU sparse disk image (tar -S) at its full size with its holes, and its sha256sums rule matches', async () => {
    const src = ws.file('src');
    await mkdir(src);
    const image = path.join(src, 'disk.img');
    const handle = await open(image, 'w');
    await handle.write(Buffer.alloc(8192, 0x61), 0, 8192, 1024 * 1024);
    await handle.write(Buffer.from('tail'), 0, 4, 4 * 1024 * 1024 - 4);
    await handle.close();
    await writeFile(path.join(src, 'SHA256SUMS'), `${sha256(readFileSync(image))}  disk.img\n`);
    await execa('tar', ['--format=gnu', '-S', '-czf', ws.file('backups/vm-1.tar.gz'), '-C', src, '.']);
    // Full size, and far fewer blocks than 4 MiB would take (the holes stayed holes).
    const command = 'test "$(stat -c %s disk.img)" -eq 4194304 && test "$(stat -c %b disk.img)" -lt 1024';
    const { exitCode, report } = await run(
      `- path: backups/vm-*.tar.gz\n  restore: { sha256sums: SHA256SUMS, command: [sh, -c, '${command}'], scratch: scratch }`,
      'restore-test',
    );
    expect(checkOf(report, 'restore').message).toContain('sha256sums: 1 file(s) match SHA256SUMS');
    expect(checkOf(report, 'restore').message).toContain('exit 0');
    expect(exitCode).toBe(0);
  });

  it('restores two names that differ only in bytes that are not UTF-8 as two files', async () => {
    const src = Buffer.from(ws.file('src'));
    await mkdir(src);
    const first = Buffer.from('caf\xe9.txt', 'latin1');
    const second = Buffer.from('caf\xe8.txt', 'latin1');
    const join = (name: Buffer): Buffer => Buffer.concat([src, Buffer.from('/'), name]);
    await writeFile(join(first), 'first\n');
    await writeFile(join(second), 'second\n');
    const list = Buffer.concat([
      Buffer.from(`${sha256('first\n')}  `),
      first,
      Buffer.from(`\n${sha256('second\n')}  `),
      second,
      Buffer.from('\n'),
    ]);
    await writeFile(join(Buffer.from('SHA256SUMS')), list);
    await execa('tar', ['-czf', ws.file('backups/nas-1.tar.gz'), '-C', ws.file('src'), '.'], { env: { LC_ALL: 'C' } });
    const { exitCode, report } = await run(
      `- path: backups/nas-*.tar.gz\n  restore: { sha256sums: SHA256SUMS, command: [sh, -c, 'test "$(find . -type f | wc -l)" -eq 3'], scratch: scratch }`,
      'restore-test',
    );
    expect(checkOf(report, 'restore').message).toContain('sha256sums: 2 file(s) match SHA256SUMS');
    expect(checkOf(report, 'restore').message).toContain('exit 0');
    expect(exitCode).toBe(0);
  });
});

/** Bytes this process has read through read(2) and friends so far, its worker threads included. */
function bytesReadSoFar(): number {
  const line = readFileSync('/proc/self/io', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('rchar:'));
  return Number(line!.split(/\s+/)[1]);
}

describe('one read per archive', () => {
  it('checksum, archive and restore on one tar.gz read the file once, and answer as each alone does', async () => {
    const big = randomBytes(24 * 1024 * 1024);
    const files = { 'data/blob.bin': big, 'MANIFEST.json': '{"version":1}' };
    const file = await makeTar(ws.file('backups/app-1.tar.gz'), { entries: { ...files, SHA256SUMS: sha256Sums(files) } });
    await withSidecar(file);
    const size = readFileSync(file).length;
    const raw = {
      path: ws.file('backups/app-*.tar.gz'),
      checksum: 'sidecar',
      archive: { expect: ['MANIFEST.json'] },
      restore: { json: '**/*.json', sha256sums: 'SHA256SUMS', scratch: ws.file('scratch') },
    };
    const shared = makeCheckContext(undefined, { command: 'restore-test', tempDir: ws.file('scratch') });
    const verify = async (artifact: Record<string, unknown>): Promise<{ bytes: number; messages: Record<string, string> }> => {
      const planned = planArtifact(artifactFrom(artifact), 'restore-test', false, false);
      const before = bytesReadSoFar();
      const result = await verifyArtifact(planned, shared, { unit: 'u', pattern: planned.pattern, unitTimeoutMs: 60_000, history: { read: async () => [] } }, () => undefined);
      const messages = Object.fromEntries(result.checks.map((c) => [c.id, `${c.status}: ${c.message}`]));
      return { bytes: bytesReadSoFar() - before, messages };
    };

    const together = await verify(raw);
    expect(together.messages.checksum).toBe(`ok: sha256 ${sha256(readFileSync(file))}`);
    expect(together.messages.archive).toMatch(/^ok: 3 entries/);
    expect(together.messages.restore).toMatch(/^ok: .*json: 1 file\(s\) ok; sha256sums: 2 file\(s\) match SHA256SUMS/);
    expect(together.bytes).toBeGreaterThanOrEqual(size);
    expect(together.bytes).toBeLessThan(1.5 * size);

    // Each check alone reads the file itself: the same answers, three reads.
    const { checksum, archive, restore } = raw;
    const runs = [await verify({ path: raw.path, checksum }), await verify({ path: raw.path, archive }), await verify({ path: raw.path, restore })];
    expect(Object.assign({}, ...runs.map((r) => r.messages))).toEqual(together.messages);
    expect(runs.reduce((sum, r) => sum + r.bytes, 0)).toBeGreaterThanOrEqual(3 * size);
    expect(await readdir(ws.file('scratch'))).toEqual([]);
  });
});

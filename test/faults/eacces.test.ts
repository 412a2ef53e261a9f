// Fault: rearguard may not read an artifact or its sidecar (EACCES: a backup written 0600 by another user); the check fails naming the file and the permission, never "missing", never a crash, never ok.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { chmod, chown, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asUnprivileged, IS_ROOT, NOBODY } from '../helpers/as-user.js';
import { BIN, makeWorkspace, toCliResult, type Workspace } from '../helpers/cli.js';
import { makeTar } from '../helpers/fixtures.js';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-eacces-');
});
afterEach(async () => {
  await ws.cleanup();
});

/** Writes `name` and its sidecar; `unreadable` is chmod 000 (owned by the user rearguard runs as, so only the mode denies). */
async function backupWithSidecar(name: string, unreadable: 'artifact' | 'sidecar' | 'none'): Promise<void> {
  const data = Buffer.alloc(50_000, name.length);
  await ws.write(name, data);
  await ws.write(`${name}.sha256`, `${sha(data)}  ${name}\n`);
  if (unreadable === 'artifact') await chmod(ws.file(name), 0o000);
  if (unreadable === 'sidecar') await chmod(ws.file(`${name}.sha256`), 0o000);
}

/** Runs verify as an unprivileged user (root reads any file whatever its mode). */
async function verifyUnprivileged() {
  if (IS_ROOT) {
    await chown(ws.dir, NOBODY.uid, NOBODY.gid);
    for (const name of await readdir(ws.dir, { recursive: true })) await chown(ws.file(name), NOBODY.uid, NOBODY.gid);
  }
  const [program, ...args] = asUnprivileged([process.execPath, BIN, 'verify', '--json', 'r.json']);
  const result = toCliResult(await execa(program!, args, { cwd: ws.dir, reject: false, env: { CI: 'true', NO_COLOR: '1' } }));
  const report = await ws.readJson('r.json');
  const units = report.stages[0].units as Array<{ name: string; status: string; message: string; artifacts: Array<{ checks: Array<{ id: string; status: string; message: string }> }> }>;
  const checkOf = (unit: string, id: string) => units.find((u) => u.name === unit)!.artifacts[0]!.checks.find((c) => c.id === id)!;
  return { result, report, units, checkOf };
}

const unit = (name: string, path: string, checks: string): string => `      - name: ${name}
        run: ["true"]
        artifacts:
          - path: ${path}
            max_age: 1h
            ${checks}
`;

describe('fault: EACCES on an artifact and on its sidecar', () => {
  it('an unreadable artifact, an unreadable sidecar and an unreadable archive each fail naming the file and EACCES; a readable one beside them passes', async () => {
    await backupWithSidecar('db.bin', 'artifact');
    await backupWithSidecar('files.bin', 'sidecar');
    await backupWithSidecar('ok.bin', 'none');
    await makeTar(ws.file('home.tar.gz'), { entries: { 'a.txt': 'a\n' } });
    await chmod(ws.file('home.tar.gz'), 0o000);
    await ws.write(
      'rearguard.yml',
      `version: 1
state_dir: ./state
stages:
  - name: s
    units:
${unit('db', 'db.bin', 'checksum: sidecar')}${unit('files', 'files.bin', 'checksum: sidecar')}${unit('home', 'home.tar.gz', 'archive: true')}${unit('ok', 'ok.bin', 'checksum: sidecar')}`,
    );
    const { result, units, checkOf } = await verifyUnprivileged();
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    expect(result.verdictLine).toMatch(/^verdict: critical \(exit 2\): 3 of 4 units failed \(db, files, home\)/);
    expect(units.map((u) => [u.name, u.status])).toEqual([['db', 'failed'], ['files', 'failed'], ['home', 'failed'], ['ok', 'ok']]);

    const artifact = checkOf('db', 'checksum');
    expect(artifact.status).toBe('failed');
    expect(artifact.message).toBe(
      `cannot hash ${ws.file('db.bin')}: expected a readable file, permission was denied; run rearguard as a user that may read it (EACCES: permission denied, open '${ws.file('db.bin')}')`,
    );

    const sidecar = checkOf('files', 'checksum');
    expect(sidecar.status).toBe('failed');
    expect(sidecar.message).toMatch(/^sidecar \S+files\.bin\.sha256 cannot be read: EACCES: permission denied/);
    expect(sidecar.message).not.toMatch(/missing/);

    const archive = checkOf('home', 'archive');
    expect(archive.status).toBe('failed');
    expect(archive.message).toMatch(/the archive could not be read: EACCES: permission denied, open '\S+home\.tar\.gz'; run rearguard as a user that may read it$/);

    for (const u of units) expect(u.message, u.name).not.toMatch(/crashed|internal error/);
    expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
  });
});

// resolveProgram: the path execvp would run, found on a real PATH of folders, files and gaps.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveProgram } from '../../../src/exec/local.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'resolve-program-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function script(file: string, mode: number): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, mode);
  return file;
}

describe('resolveProgram', () => {
  it('passes over a missing folder, a folder of the same name, a file that is not executable and a PATH entry that is a file', () => {
    const wanted = script(path.join(dir, 'good', 'backup-tool'), 0o755);
    mkdirSync(path.join(dir, 'shadow', 'backup-tool'), { recursive: true });
    script(path.join(dir, 'plain', 'backup-tool'), 0o644);
    const notAFolder = script(path.join(dir, 'a-file'), 0o644);
    const searchPath = [path.join(dir, 'missing'), path.join(dir, 'shadow'), path.join(dir, 'plain'), notAFolder, path.join(dir, 'good')].join(':');
    expect(resolveProgram('backup-tool', searchPath)).toBe(wanted);
  });

  it('is undefined when no folder holds it, and takes a name with a slash as a path from cwd', () => {
    expect(resolveProgram('backup-tool', [path.join(dir, 'missing'), dir].join(':'))).toBeUndefined();
    const local = script(path.join(dir, 'bin', 'run-me'), 0o700);
    expect(resolveProgram('./bin/run-me', '/nowhere', dir)).toBe(local);
    expect(resolveProgram('./bin/absent', '/nowhere', dir)).toBeUndefined();
  });

  it('finds a program through an empty PATH entry, which means the working folder', () => {
    const local = script(path.join(dir, 'here-tool'), 0o755);
    expect(resolveProgram('here-tool', `${path.join(dir, 'missing')}::/usr/bin`, dir)).toBe(local);
  });
});

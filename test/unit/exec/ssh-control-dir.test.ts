import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeControlDir } from '../../../src/exec/ssh.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

describe('SSH control folders', () => {
  it('are named after the run\'s pid, and folders of dead runs are removed when the next one starts', async () => {
    const dead = (await execa('sh', ['-c', 'echo $$'])).stdout.trim();
    await mkdir(ws.file(`state/ssh-${dead}-AbC123/`), { recursive: true });
    await mkdir(ws.file(`state/ssh-${process.pid}-Other1`), { recursive: true });
    await mkdir(ws.file('state/ssh-legacy'), { recursive: true });
    const dir = makeControlDir(ws.file('state'));
    expect(dir).toMatch(new RegExp(`/state/ssh-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(existsSync(ws.file(`state/ssh-${dead}-AbC123`))).toBe(false);
    expect((await readdir(ws.file('state'))).sort()).toEqual(
      [`ssh-${process.pid}-Other1`, dir.split('/').pop()!, 'ssh-legacy'].sort(),
    );
  });
});

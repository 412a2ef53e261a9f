// spawnChild: the local runner's process start. Real programs (sh, cat, head) on real pipes and files.
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnChild } from '../../../src/exec/spawn-child.js';

const env = { PATH: '/usr/bin:/bin' };
let dir: string;
let outFd: number;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'spawn-child-'));
  outFd = openSync(path.join(dir, 'out'), 'w');
});
afterEach(() => {
  closeSync(outFd);
  rmSync(dir, { recursive: true, force: true });
});
const output = (): string => readFileSync(path.join(dir, 'out'), 'utf8');

async function collect(stream: Readable | null): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('spawnChild', () => {
  it('writes `input` to stdin and closes it; output goes to the given descriptors; the exit code comes back', async () => {
    const child = spawnChild('sh', ['-c', 'cat; echo err >&2; exit 3'], { env, input: 'twelve bytes', stdout: outFd, stderr: outFd });
    expect(await child.exited).toEqual({ exitCode: 3 });
    expect(output()).toBe('twelve byteserr\n');
  });

  it('pipes an input stream to stdin, and reads stdout from a pipe when asked', async () => {
    const child = spawnChild('wc', ['-c'], { env, inputStream: Readable.from([Buffer.alloc(1000), Buffer.alloc(24)]), stdout: 'pipe', stderr: outFd });
    const [text, exit] = await Promise.all([collect(child.stdout), child.exited]);
    expect(text.trim()).toBe('1024');
    expect(exit.exitCode).toBe(0);
  });

  it('stops an input stream the program did not read to its end, without an error', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 1;
        this.push(Buffer.alloc(64 * 1024, 'y'));
      },
    });
    const child = spawnChild('head', ['-c', '10'], { env, inputStream: endless, stdout: outFd, stderr: outFd });
    expect((await child.exited).exitCode).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(endless.destroyed).toBe(true);
    expect(output()).toBe('yyyyyyyyyy');
    expect(pulled).toBeGreaterThan(0);
  });

  it('reports a start that failed (a missing working folder) as startError, without a pid', async () => {
    const child = spawnChild('true', [], { env, cwd: path.join(dir, 'missing'), stdout: outFd, stderr: outFd });
    const exit = await child.exited;
    expect(child.pid).toBeUndefined();
    expect(exit.exitCode).toBeNull();
    expect(exit.startError?.code).toBe('ENOENT');
  });

  it('reports the signal that ended the program, and leads its own process group', async () => {
    const child = spawnChild('sh', ['-c', 'echo $(cut -d" " -f5 /proc/$$/stat) $$; kill -TERM $$'], { env, stdout: outFd, stderr: outFd });
    expect(child.pid).toBeGreaterThan(0);
    expect(await child.exited).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(output()).toBe(`${child.pid} ${child.pid}\n`);
  });

  it('resolves at the exit even while a process it left still holds its stdout pipe', async () => {
    const child = spawnChild('sh', ['-c', 'sleep 30 & echo $!'], { env, stdout: 'pipe', stderr: outFd });
    const first = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    expect((await child.exited).exitCode).toBe(0);
    process.kill(Number(first.trim()), 'SIGKILL');
  });
});

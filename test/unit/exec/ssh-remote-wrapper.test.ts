// The remote wrapper and quoting, run under the real local /bin/sh (what a remote login shell does with them).
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildEnvBlock, buildKillArgv, buildRemoteCommand, parseMarkers, stripMarkers } from '../../../src/exec/remote-wrapper.js';
import { quoteShellArg, quoteShellCommand } from '../../../src/util/shell-quote.js';
import { makeWorkspace, type Workspace } from '../../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

function alive(pid: number): Promise<boolean> {
  return readFile(`/proc/${pid}/stat`, 'utf8').then(
    (stat) => !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? ''),
    () => false,
  );
}

/**
 * Whether `pid` still runs a moment after the wrapper exited. Its last act is `kill -s KILL`, and a process
 * killed that way may take a few milliseconds (on a busy machine) to be scheduled and die: wait up to 5 s.
 */
async function aliveAfterKill(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 5_000 && (await alive(pid)); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return alive(pid);
}

/** Runs a remote command line the way sshd does: `sh -c <line>`, stdin under the test's control. */
function runLine(line: string) {
  return execa('sh', ['-c', line], { reject: false, stdin: 'pipe', all: true });
}

describe('quoteShellArg', () => {
  it('round-trips any argument through a real shell', async () => {
    const args = ["it's", '$(id)', '`id`', 'a\nb', ' lead', '-rf', '*', '', 'ünï', '\\', '"'];
    const result = await execa('sh', ['-c', `printf '[%s]' ${quoteShellCommand(args)}`]);
    expect(result.stdout).toBe(args.map((a) => `[${a}]`).join(''));
    expect(quoteShellArg('/volume1/backup')).toBe('/volume1/backup');
    expect(() => quoteShellArg('a\0b')).toThrow(/NUL/);
  });
});

describe('remote wrapper', () => {
  it('exports the env block, runs argv as data and reports its start', async () => {
    const line = buildRemoteCommand(['sh', '-c', 'printf "%s|%s|%s" "$A" "$B" "$1"', 'x', '$HOME; id'], { nonce: 'n1', killGraceMs: 1000, mode: 'watch' });
    const child = runLine(line);
    // The session's stdin stays open while the command runs: closing it means "stop".
    child.stdin!.write(buildEnvBlock({ A: "it's", B: 'two\nlines' }, 'n1'));
    const result = await child;
    child.stdin!.destroy();
    expect(result.exitCode).toBe(0);
    expect(parseMarkers(result.all, 'n1')).toMatchObject({ started: true, leftovers: false });
    expect(stripMarkers(result.all, 'n1')).toBe("it's|two\nlines|$HOME; id");
  });

  it('does not start the command when the env block is cut short', async () => {
    const marker = ws.file('ran');
    const child = runLine(buildRemoteCommand(['touch', marker], { nonce: 'n2', killGraceMs: 1000, mode: 'watch' }));
    child.stdin!.end('export A=1\n');
    const result = await child;
    expect(result.exitCode).toBe(125);
    expect(parseMarkers(result.all, 'n2').started).toBe(false);
    await expect(readFile(marker)).rejects.toThrow();
  });

  it('terminates the whole process group when the session stdin closes', async () => {
    const pids = ws.file('pids');
    const child = runLine(
      buildRemoteCommand(['sh', '-c', '(trap "" TERM; sleep 300) & echo $! > "$1"; sleep 300 & echo $! >> "$1"; wait', 'sh', pids], {
        nonce: 'n3',
        killGraceMs: 1000,
        mode: 'watch',
      }),
    );
    child.stdin!.write(buildEnvBlock({}, 'n3'));
    while (((await readFile(pids, 'utf8').catch(() => '')).match(/\n/g) ?? []).length < 2) await new Promise((r) => setTimeout(r, 30));
    child.stdin!.end();
    const result = await child;
    expect(result.exitCode).not.toBe(0);
    const list = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    for (const pid of list) expect(await aliveAfterKill(pid)).toBe(false);
  });

  it('passes the rest of stdin to the command in pass mode', async () => {
    const child = runLine(buildRemoteCommand(['wc', '-c'], { nonce: 'n4', killGraceMs: 1000, mode: 'pass' }));
    child.stdin!.end(`${buildEnvBlock({}, 'n4')}0123456789`); // pass mode: end of data ends the command
    const result = await child;
    expect(stripMarkers(result.all, 'n4').trim()).toBe('10');
  });

  it('cleans up what the command left behind in its group, and says so', async () => {
    const pidFile = ws.file('left');
    const child = runLine(buildRemoteCommand(['sh', '-c', 'sleep 300 & echo $! > "$1"; exit 3', 'sh', pidFile], { nonce: 'n5', killGraceMs: 1000, mode: 'watch' }));
    child.stdin!.write(buildEnvBlock({}, 'n5'));
    const result = await child;
    child.stdin!.destroy();
    expect(result.exitCode).toBe(3);
    expect(parseMarkers(result.all, 'n5').leftovers).toBe(true);
    expect(await aliveAfterKill(Number((await readFile(pidFile, 'utf8')).trim()))).toBe(false);
  });

  it('can stop a command from outside through its marker', async () => {
    const child = runLine(buildRemoteCommand(['sleep', '300'], { nonce: 'n6', killGraceMs: 1000, mode: 'watch' }));
    child.stdin!.write(buildEnvBlock({}, 'n6'));
    let output = '';
    child.all!.on('data', (d: Buffer) => (output += d.toString()));
    while (!parseMarkers(output, 'n6').started) await new Promise((r) => setTimeout(r, 20));
    const { killTarget, pid } = parseMarkers(output, 'n6');
    expect(killTarget).toBe(`-${pid}`);
    await execa(buildKillArgv(killTarget!, 1000)[0]!, buildKillArgv(killTarget!, 1000).slice(1));
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(() => buildKillArgv('1; rm -rf /', 1000)).toThrow();
  });

  it('refuses env names a shell cannot export', () => {
    expect(() => buildEnvBlock({ 'BAD-NAME': 'x' }, 'n')).toThrow(/shell variable name/);
  });
});

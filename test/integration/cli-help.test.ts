// The CLI behaves by its help: each command offers only the flags it honours, with examples; reports can go to
// stdout; colour follows chalk's detection and NO_COLOR; the live tree gives way to plain lines where it cannot draw.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';

const ESC = '\u001b[';
const CONFIG = `version: 1
stages:
  - name: files
    units:
      - name: notes
        run: [node, -e, "require('fs').mkdirSync('out', { recursive: true }); require('fs').writeFileSync('out/notes.txt', 'hello')"]
        artifacts:
          - path: out/notes.txt
            size: { min: 1B }
`;

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
  await ws.write('rearguard.yml', CONFIG);
});
afterEach(async () => {
  await ws.cleanup();
});

// Only the variables named here: colour detection must not see the caller's NO_COLOR, FORCE_COLOR or CI.
const run = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [BIN, ...args], { cwd: ws.dir, reject: false, extendEnv: false, env: { PATH: process.env.PATH ?? '', HOME: ws.dir, ...env } });

const flagsOf = (help: string): string[] => [...help.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);

describe('help', () => {
  it('lists for each command only the flags it honours', async () => {
    const expected: Record<string, string[]> = {
      orchestrate: ['--config', '--only', '--skip', '--json', '--junit', '--no-color', '--verbose', '--quiet', '--wait-lock', '--dry-run', '--help'],
      verify: ['--config', '--only', '--skip', '--json', '--junit', '--no-color', '--verbose', '--quiet', '--wait-lock', '--help'],
      'restore-test': ['--config', '--only', '--skip', '--json', '--junit', '--no-color', '--verbose', '--quiet', '--wait-lock', '--help'],
      plan: ['--config', '--only', '--skip', '--json', '--help'],
      audit: ['--config', '--only', '--skip', '--json', '--junit', '--no-color', '--quiet', '--verbose', '--help'],
      history: ['--config', '--no-color', '--json', '--limit', '--help'],
      demo: ['--no-color', '--verbose', '--quiet', '--help'],
    };
    for (const [command, flags] of Object.entries(expected)) {
      const help = await run([command, '--help']);
      expect(help.exitCode).toBe(0);
      expect(flagsOf(help.stdout), command).toEqual(flags);
    }
    expect((await run(['audit', '--help'])).stdout).not.toContain('stream unit output');
  });

  it('shows examples of the command itself and where the docs are', async () => {
    for (const command of ['orchestrate', 'plan', 'verify', 'restore-test', 'audit', 'history', 'demo', 'completion']) {
      const help = (await run([command, '--help'])).stdout;
      const examples = help.split('Examples:\n')[1] ?? '';
      expect(examples.match(new RegExp(`^ {2}\\$ rearguard ${command}\\b`, 'gm'))?.length ?? 0, command).toBeGreaterThanOrEqual(2);
      expect(help).toMatch(/^Docs: man rearguard/m);
    }
  });

  it('refuses a flag the command does not honour instead of ignoring it', async () => {
    const result = await run(['plan', '--junit', 'plan.xml']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown option '--junit'");
    expect(existsSync(ws.file('plan.xml'))).toBe(false);
    expect((await run(['audit', '--wait-lock', '5m'])).exitCode).toBe(2);
  });
});

describe('reports on stdout', () => {
  it('--json - prints only the report on stdout; the run lines and the verdict go to stderr', async () => {
    const result = await run(['orchestrate', '--json', '-']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { schema: string; verdict: string };
    expect(report.schema).toBe('rearguard.report/v1');
    expect(report.verdict).toBe('ok');
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^verdict: ok \(exit 0\)/);
    expect(result.stderr).toContain('unit files/notes: started');
    expect(existsSync(ws.file('-'))).toBe(false);
  });

  it('--junit - prints the XML on stdout; --json - with --junit - is a usage error', async () => {
    const result = await run(['verify', '--junit', '-']);
    expect(result.stdout).toMatch(/^<\?xml[\s\S]*<testsuites[\s\S]*<\/testsuites>\s*$/);
    expect(result.stderr).toMatch(/verdict: \w+ \(exit \d\)/);
    const both = await run(['orchestrate', '--json', '-', '--junit', '-']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--json - and --junit - both asked for stdout');
  });

  it('history --json - prints the data on stdout', async () => {
    await run(['orchestrate']);
    const result = await run(['history', '--json', '-']);
    expect(result.exitCode).toBe(0);
    expect((JSON.parse(result.stdout) as { schema: string }).schema).toBe('rearguard.history-view/v1');
    expect(existsSync(ws.file('-'))).toBe(false);
  });
});

describe('colour', () => {
  it('follows chalk detection: none on a pipe, FORCE_COLOR turns it on, NO_COLOR of any value and --no-color win', async () => {
    expect((await run(['orchestrate'])).stdout).not.toContain(ESC);
    expect((await run(['orchestrate'], { FORCE_COLOR: '1' })).stdout).toContain(ESC);
    expect((await run(['orchestrate'], { FORCE_COLOR: '1', NO_COLOR: '' })).stdout).not.toContain(ESC);
    expect((await run(['orchestrate'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain(ESC);
    expect((await run(['orchestrate', '--no-color'], { FORCE_COLOR: '1' })).stdout).not.toContain(ESC);
    expect((await run(['orchestrate'], { FORCE_COLOR: '0' })).stdout).not.toContain(ESC);
  });

  // `script` gives the CLI a real pseudo-terminal of the size stty sets.
  const onTerminal = (size: string, env: Record<string, string>) =>
    execa('script', ['-qec', `stty ${size}; ${process.execPath} ${BIN} orchestrate`, '/dev/null'], {
      cwd: ws.dir,
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '', HOME: ws.dir, ...env },
    });

  it('TERM=dumb on a terminal: no colour and no live redraw, plain lines', async () => {
    if (!requireTool('script', 'apt-get install bsdutils')) return;
    const result = await onTerminal('cols 160 rows 50', { TERM: 'dumb' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain(ESC);
    expect(result.stdout).toContain('unit files/notes: started');
  });

  it('a terminal too narrow for the tree (and a 0-column one) gets plain lines; a wide one the live tree in colour', async () => {
    if (!requireTool('script', 'apt-get install bsdutils')) return;
    for (const size of ['cols 20 rows 40', 'cols 0 rows 0']) {
      const narrow = await onTerminal(size, { TERM: 'xterm-256color' });
      expect(narrow.exitCode).toBe(0);
      const lines = stripVTControlCharacters(narrow.stdout).split(/\r?\n/);
      expect(lines, size).toContain('unit files/notes: started');
    }
    const wide = await onTerminal('cols 160 rows 50', { TERM: 'xterm-256color' });
    expect(wide.stdout).toContain(ESC);
    expect(stripVTControlCharacters(wide.stdout)).not.toContain('unit files/notes: started');
  });
});

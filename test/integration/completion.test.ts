// Shell completion: the scripts `rearguard completion bash|zsh|fish` prints, run in the real shells, offer the
// commands, each command's own flags, and the config's unit and stage names after --only/--skip.
import { execa } from 'execa';
import { chmod } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';

const CONFIG = `version: 1
stages:
  - name: databases
    units:
      - name: billing-db
        run: [node, --version]
      - name: users-db
        run: [node, --version]
  - name: files
    units:
      - name: uploads
        run: [node, --version]
`;

let ws: Workspace;
let env: Record<string, string>;
beforeAll(async () => {
  ws = await makeWorkspace();
  await ws.write('rearguard.yml', CONFIG);
  await ws.write('other/alt.yml', CONFIG.replace('uploads', 'media'));
  // The scripts call `rearguard` by name, as an installed one would be found.
  await ws.write('bin/rearguard', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  await chmod(ws.file('bin/rearguard'), 0o755);
  env = { PATH: `${ws.file('bin')}:${process.env.PATH}`, HOME: ws.dir, NO_COLOR: '1' };
  for (const shell of ['bash', 'zsh', 'fish']) await ws.write(`completion.${shell}`, (await execa(process.execPath, [BIN, 'completion', shell])).stdout);
});
afterAll(async () => {
  await ws.cleanup();
});

const NAMES = ['billing-db', 'databases', 'files', 'uploads', 'users-db'];

describe('bash', () => {
  // Sets COMP_WORDS as bash does for a command line ending in the cursor, runs the function, prints COMPREPLY.
  const complete = async (line: string): Promise<string[]> => {
    const words = line.split(' ');
    const script = `source completion.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _rearguard; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await execa('bash', ['-c', script], { cwd: ws.dir, env, extendEnv: false });
    return result.stdout.split('\n').filter(Boolean).sort();
  };

  it('completes commands, subcommands and the flags of each command', async () => {
    expect(await complete('rearguard re')).toEqual(['restore-test']);
    expect(await complete('rearguard config ')).toEqual(['schema', 'validate']);
    expect(await complete('rearguard plan --')).toEqual(['--config', '--help', '--json', '--only', '--skip']);
    expect(await complete('rearguard orchestrate --d')).toEqual(['--dry-run']);
    expect(await complete('rearguard verify --d')).toEqual([]);
  });

  it('offers unit and stage names from the config after --only and --skip, also after a first name and with -c', async () => {
    expect(await complete('rearguard orchestrate --only ')).toEqual(NAMES);
    expect(await complete('rearguard verify --skip billing-db u')).toEqual(['uploads', 'users-db']);
    expect(await complete('rearguard orchestrate -c other/alt.yml --only m')).toEqual(['media']);
  });
});

describe('fish', () => {
  const available = requireTool('fish', 'apt-get install fish');
  const complete = async (line: string): Promise<string[]> => {
    const result = await execa('fish', ['--no-config', '-c', `source completion.fish; complete -C ${JSON.stringify(line)}`], { cwd: ws.dir, env, extendEnv: false });
    return result.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
  };

  it.runIf(available)('completes commands, flags and config names', async () => {
    expect(await complete('rearguard orch')).toEqual(['orchestrate']);
    expect(await complete('rearguard plan --')).toEqual(['--config', '--json', '--only', '--skip']);
    expect(await complete('rearguard orchestrate --only ')).toEqual(NAMES);
    expect(await complete('rearguard orchestrate -c other/alt.yml --only ')).toEqual(NAMES.map((n) => (n === 'uploads' ? 'media' : n)).sort());
  });
});

describe('zsh', () => {
  const available = requireTool('zsh', 'apt-get install zsh');
  // zsh's completion builtins only work inside its line editor, which needs an interactive terminal: here
  // compadd, _describe and _files are replaced by functions that print what the script offers.
  const complete = async (line: string): Promise<string[]> => {
    const words = line.split(' ');
    const script = [
      'compdef() { :; }',
      // Like the real ones, they keep only the candidates that start with the word being completed.
      'offer() { local w; for w in "$@"; do [[ $w == ${words[CURRENT]}* ]] && print -- $w; done; return 0; }',
      'compadd() { [[ $1 == -- ]] && shift; offer "$@"; }',
      '_describe() { local -a list; list=("${(@P)2}"); offer "${list[@]%%:*}"; }',
      '_files() { print -- "<files>"; }',
      'source ./completion.zsh',
      `words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}`,
      '_rearguard',
    ].join('\n');
    const result = await execa('zsh', ['-f', '-c', script], { cwd: ws.dir, env, extendEnv: false });
    return result.stdout.split('\n').filter(Boolean).sort();
  };

  it.runIf(available)('parses, and offers commands, flags, files and config names', async () => {
    await execa('zsh', ['-n', 'completion.zsh'], { cwd: ws.dir });
    expect(await complete('rearguard ')).toEqual(expect.arrayContaining(['orchestrate', 'plan', 'completion', 'demo']));
    expect(await complete('rearguard config ')).toEqual(['schema', 'validate']);
    expect(await complete('rearguard plan --')).toEqual(['--config', '--help', '--json', '--only', '--skip']);
    expect(await complete('rearguard verify --json ')).toEqual(['<files>']);
    expect(await complete('rearguard orchestrate --only ')).toEqual(NAMES);
  });
});

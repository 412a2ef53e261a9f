// The CLI surface: plan and dry-run, config commands, output modes, JUnit, config discovery.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

const CONFIG = `version: 1
preflight:
  - disk: .
    min_free: 1MB
stages:
  - name: dumps
    concurrency: 2
    units:
      - name: db
        run: [sh, -c, 'mkdir -p out && echo dump > out/db.sql && touch db-ran']
        timeout: 5m
        critical: true
        env: { PGPASSWORD: hunter2hunter2, PGHOST: db.internal }
        artifacts:
          - path: out/db.sql
            size: { min: 1B }
      - name: files
        shell: 'echo files > files.txt && exit 4'
        timeout: 90s
        retries: 1
        retry_delay: 10ms
      - name: logs
        run: [sh, -c, 'true']
`;

describe('plan and dry-run', () => {
  for (const args of [['plan'], ['orchestrate', '--dry-run']]) {
    it(`${args.join(' ')} shows stages, units, concurrency, timeouts and checks, and runs nothing`, async () => {
      await ws.write('rearguard.yml', CONFIG);
      const result = await runCli(args, { cwd: ws.dir });
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('stage 1 dumps: 3 unit(s), up to 2 at once');
      expect(result.stdout).toMatch(/- db: run "sh" "-c" .*; timeout 5m00s; critical/);
      expect(result.stdout).toContain('env: PGPASSWORD=*** PGHOST=db.internal');
      expect(result.stdout).toMatch(/- files: shell \(opt-in\) .*timeout 1m30s; retries 1/);
      expect(result.stdout).toMatch(/artifact .*out\/db\.sql\n\s+· exists: .*\n\s+· fresh: written by this run\n\s+· size: at least 1 B/);
      expect(result.stdout).toMatch(/pre-flight \(all at once\):\n\s+- disk: /);
      expect(result.stdout).not.toContain('hunter2hunter2');
      expect(existsSync(ws.file('db-ran'))).toBe(false);
      expect(existsSync(ws.file('.rearguard'))).toBe(false);
    });
  }
});

describe('config commands', () => {
  it('config validate accepts a valid file and refuses an invalid one with file:line', async () => {
    await ws.write('rearguard.yml', CONFIG);
    const ok = await runCli(['config', 'validate'], { cwd: ws.dir });
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/rearguard\.yml: valid \(1 stage\(s\), 3 unit entries, 1 pre-flight check\(s\)\)/);
    await ws.write('bad.yml', CONFIG.replace('timeout: 90s', 'timeout: 90 seconds'));
    const bad = await runCli(['config', 'validate', '-c', 'bad.yml'], { cwd: ws.dir });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`${ws.file('bad.yml')}:19: stages[0].units[1].timeout: expected a duration like "90s", "5m" or "1h30m", got "90 seconds"`);
  });

  it('config schema prints a JSON Schema', async () => {
    const result = await runCli(['config', 'schema'], { cwd: ws.dir });
    expect(result.exitCode).toBe(0);
    const schema = JSON.parse(result.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.properties.stages.type).toBe('array');
  });

  it('orchestrate with an invalid config exits 2 before anything runs', async () => {
    await ws.write('rearguard.yml', CONFIG.replace('concurrency: 2', 'concurency: 2'));
    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('stages[0].concurency: unknown key "concurency"');
    expect(result.verdictLine).toBe('verdict: critical (exit 2): invalid config (1 problem)');
    expect(existsSync(ws.file('db-ran'))).toBe(false);
  });

  it('finds ./rearguard.yml, then $REARGUARD_CONFIG, and says so when there is none', async () => {
    const missing = await runCli(['config', 'validate'], { cwd: ws.dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/rearguard\.yml: config file not found \(pass -c <file> or set REARGUARD_CONFIG\)/);
    await ws.write('elsewhere/conf.yml', CONFIG);
    const fromEnv = await runCli(['config', 'validate'], { cwd: ws.dir, env: { REARGUARD_CONFIG: ws.file('elsewhere/conf.yml') } });
    expect(fromEnv.exitCode).toBe(0);
    expect(fromEnv.stdout).toContain('elsewhere/conf.yml: valid');
  });

  it('unknown commands and options exit 2', async () => {
    expect((await runCli(['orchestrat'], { cwd: ws.dir })).exitCode).toBe(2);
    expect((await runCli(['orchestrate', '--bogus'], { cwd: ws.dir })).exitCode).toBe(2);
    expect((await runCli(['--help'], { cwd: ws.dir })).exitCode).toBe(0);
  });
});

describe('output', () => {
  it('prints one plain line per event without escape codes when not a TTY, and the verdict last', async () => {
    await ws.write('rearguard.yml', CONFIG);
    const result = await runCli(['orchestrate', '--junit', 'out.xml'], { cwd: ws.dir, env: { NO_COLOR: '' } });
    expect(result.exitCode).toBe(1);
    expect(result.stdout.includes('\u001b[')).toBe(false);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toContain('stage dumps: 3 unit(s), up to 2 at once');
    expect(lines.some((l) => /^unit dumps\/files: started \(attempt 2\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^unit dumps\/db: check size ok: 5 B\b/.test(l))).toBe(true);
    expect(lines.some((l) => /^STAGE\s+UNIT\s+STATUS\s+TIME\s+DETAIL$/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^verdict: partial \(exit 1\): 1 of 3 units failed \(files\)/);
  });

  it('--quiet prints only the verdict line on stdout', async () => {
    await ws.write('rearguard.yml', CONFIG);
    const result = await runCli(['orchestrate', '--quiet'], { cwd: ws.dir });
    expect(result.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^verdict: partial \(exit 1\)/)]);
  });

  it('writes JUnit XML: a suite per stage and pre-flight, a case per unit and check, failures with message and log tail', async () => {
    await ws.write('rearguard.yml', CONFIG);
    await runCli(['orchestrate', '--junit', 'reports/junit.xml'], { cwd: ws.dir });
    const xml = await readFile(ws.file('reports/junit.xml'), 'utf8');
    expect(xml).toMatch(/<testsuite name="pre-flight"[^>]*tests="1"/);
    expect(xml).toMatch(/<testsuite name="dumps"[^>]*tests="6"[^>]*failures="1"/);
    expect(xml).toMatch(/<testcase classname="rearguard\.dumps" name="files"[^>]*>\s*<failure message="failed: exited with 4 \(after 2 attempts\)" type="failed"\/>/);
    expect(xml).toMatch(/<testcase classname="rearguard\.dumps\.db" name="size [^"]*out\/db\.sql"/);
    expect(xml).toMatch(/<testsuite name="verdict"[\s\S]*<failure message="partial: 1 of 3 units failed/);
  });

  it('draws a live task tree on a terminal', async () => {
    await ws.write('rearguard.yml', CONFIG);
    // `script` gives the CLI a real pseudo-terminal; stty sizes it (a fresh pty is 0x0).
    const result = await execa('script', ['-qec', `stty cols 160 rows 50; ${process.execPath} ${BIN} orchestrate`, '/dev/null'], {
      cwd: ws.dir,
      reject: false,
      env: { CI: '', TERM: 'xterm-256color', COLUMNS: '160' },
    });
    expect(result.exitCode).toBe(1);
    const screen = stripVTControlCharacters(result.stdout);
    expect(result.stdout.includes('\u001b[')).toBe(true);
    expect(screen).toContain('Pre-flight');
    expect(screen).toMatch(/✔.*db ok/);
    expect(screen).toMatch(/✖.*files: failed: exited with 4/);
    expect(screen).toMatch(/verdict: partial \(exit 1\)/);
  });
});

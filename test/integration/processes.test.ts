// Hung and leaky units: timeouts kill the whole process group, and nothing is left running.
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../helpers/process.js';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});


async function pidsIn(file: string): Promise<number[]> {
  return (await readFile(ws.file(file), 'utf8')).split('\n').filter(Boolean).map(Number);
}

describe('unit processes', () => {
  it('times out a hung unit, kills its background grandchild that ignores SIGTERM, and reports status timeout', async () => {
    await ws.write('hang.sh', `#!/bin/sh
sh -c 'trap "" TERM; echo $$ >> pids; sleep 600' &
echo $$ >> pids
echo "dumping..."
sleep 600
`);
    await ws.write('rearguard.yml', `version: 1
stages:
  - name: s
    units:
      - name: hung
        run: [sh, hang.sh]
        timeout: 1s
        kill_grace: 500ms
      - name: fine
        run: ['true']
`);
    const started = Date.now();
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.exitCode).toBe(2);
    const report = await ws.readJson('r.json');
    expect(report.stages[0].units[0]).toMatchObject({ name: 'hung', status: 'timeout', message: 'timed out after 1.0s' });
    expect(report.stages[0].units[0].log_tail).toContain('dumping...');
    expect(report.stages[0].units[1].status).toBe('ok');
    const pids = await pidsIn('pids');
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(pidAlive(pid), `pid ${pid} is still running`).toBe(false);
  });

  it('does not hang when a grandchild keeps stdout open after the unit exits, and terminates it', async () => {
    await ws.write('leaky.sh', `#!/bin/sh
mkdir -p out
echo data > out/backup.txt
# A daemonised helper that inherits stdout and outlives the script.
sleep 600 &
echo $! > leaked.pid
echo "backup done"
exit 0
`);
    await ws.write('rearguard.yml', `version: 1
defaults: { kill_grace: 1s }
stages:
  - name: s
    units:
      - name: leaky
        run: [sh, leaky.sh]
        timeout: 60s
        artifacts:
          - path: out/backup.txt
`);
    const started = Date.now();
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.exitCode).toBe(0);
    const [leaked] = await pidsIn('leaked.pid');
    expect(pidAlive(leaked!)).toBe(false);
    const log = await readFile((await ws.readJson('r.json')).stages[0].units[0].log, 'utf8');
    expect(log).toContain('backup done');
    expect(log).toContain('left background processes in its process group; they were terminated');
  });

  it('writes each unit\'s output to state_dir/runs/<run-id>/<unit>.log', async () => {
    await ws.write('rearguard.yml', `version: 1
state_dir: ./state
stages:
  - name: s
    units:
      - name: talker
        run: [sh, -c, 'echo to-stdout; echo to-stderr >&2']
`);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(0);
    const report = await ws.readJson('r.json');
    expect(report.stages[0].units[0].log).toBe(ws.file(`state/runs/${report.run_id}/talker.log`));
    const log = await readFile(report.stages[0].units[0].log, 'utf8');
    expect(log).toMatch(/to-stdout\n[\s\S]*to-stderr/);
  });

  it('runs `run` argv without a shell and `shell` only when asked', async () => {
    await ws.write('rearguard.yml', `version: 1
stages:
  - name: s
    units:
      - name: literal
        run: [sh, -c, 'printf "%s" "$1" > literal.txt', x, '$(touch injected); *']
      - name: opted-in
        shell: 'echo "$((6 * 7))" > shell.txt'
`);
    const result = await runCli(['orchestrate'], { cwd: ws.dir });
    expect(result.exitCode).toBe(0);
    expect(await readFile(ws.file('literal.txt'), 'utf8')).toBe('$(touch injected); *');
    await expect(readFile(ws.file('injected'))).rejects.toThrow();
    expect((await readFile(ws.file('shell.txt'), 'utf8')).trim()).toBe('42');
  });

  it('passes env and env_file to the unit and keeps secret values out of the report', async () => {
    await ws.write('secrets.env', 'export DB_PASSWORD="correct horse battery"\nDB_NAME=app\n');
    await ws.write('rearguard.yml', `version: 1
stages:
  - name: s
    units:
      - name: env
        run: [sh, -c, 'echo "using $DB_NAME with $DB_PASSWORD as $ROLE"; exit 1']
        env: { ROLE: backup }
        env_file: secrets.env
`);
    const result = await runCli(['orchestrate', '--json', 'r.json'], { cwd: ws.dir });
    expect(result.exitCode).toBe(2);
    const text = await readFile(ws.file('r.json'), 'utf8');
    expect(text).toContain('using app with *** as backup');
    expect(text).not.toContain('correct horse battery');
    expect(result.stdout).not.toContain('correct horse battery');
  });
});

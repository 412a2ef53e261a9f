// Fault: SIGTERM, SIGHUP or SIGINT reaches rearguard in each phase of a run: a pre-flight command, a unit, a verification check, a restore test in its scratch folder, an upload over SSH (mid-transfer, and while the host hashes the complete temp file).
// Each ends with exit 2, the report naming every unit with its status and reason, metrics written, the lock released, the scratch folder removed, nothing left running; an upload leaves no temp file and no unverified final file on the host, and the previous good copy as it was.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, startCli, toCliResult, type Workspace } from '../helpers/cli.js';
import { pidAlive } from '../helpers/process.js';
import { requireTool } from '../helpers/require-tool.js';
import { hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';
import { waitForLine, waitForLines } from '../helpers/wait-line.js';

const HOLD_HASH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inject-hold-hash.mjs');
const HOLD_UPLOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'inject-hold-upload.mjs');
const SECRET = 's3cr3t-signal-phase-92ab';
const PREVIOUS_COPY = 'previous good copy\n';
const sshdAvailable = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);

let ws: Workspace;
let pids: number[] = [];
let sshd: Sshd | undefined;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-fault-phase-');
  pids = [];
  sshd = undefined;
  // The blocking step of every phase: it writes its pid, its folder and its child's pid, then waits.
  await ws.write('block.sh', `#!/bin/sh
pwd >> ${ws.dir}/cwds
echo $$ >> ${ws.dir}/pids
sleep 600 &
echo $! >> ${ws.dir}/pids
wait
`);
  await ws.write('app/data.json', '{"rows": 3}\n');
  await ws.write('scratch/.keep', '');
  await mkdir(ws.file('out'));
  await execa('tar', ['czf', 'out/app.tar.gz', '-C', 'app', '.'], { cwd: ws.dir });
  const sha256 = createHash('sha256').update(await readFile(ws.file('out/app.tar.gz'))).digest('hex');
  await ws.write('out/app.tar.gz.sha256', `${sha256}  app.tar.gz\n`);
});
afterEach(async () => {
  for (const pid of pids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  await sshd?.stop();
  await ws.cleanup();
});

/**
 * Processes of this user whose working folder, command line or environment is inside `dir` (what the
 * test's sshd starts for a session carries a PATH inside the workspace, so a command left on the host counts).
 */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) || cmdline.includes(dir) || environ.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

/** The config: one unit that backs up app/ (with what the phase adds), and a later stage that must never start. */
const config = (phase: { preflight?: string; run?: string; artifact?: string; hosts?: string }): string => `version: 1
state_dir: ./state
${phase.hosts ? `hosts:\n${phase.hosts}` : ''}${phase.preflight ? `preflight:\n  - command: ${phase.preflight}\n` : ''}stages:
  - name: app
    units:
      - name: backup
        run: ${phase.run ?? '[tar, czf, out/app.tar.gz, -C, app, .]'}
        env: { API_TOKEN: ${SECRET} }
        timeout: 60s
        kill_grace: 1s
        artifacts:
          - path: out/app.tar.gz
${phase.artifact ?? ''}  - name: later
    units:
      - name: after
        run: [touch, after-ran]
report: { json: ./report.json }
metrics: { textfile: ./prom/rearguard.prom }
`;

const phases = [
  {
    phase: 'pre-flight',
    command: 'orchestrate',
    config: config({ preflight: '[sh, block.sh]' }),
    // The pre-flight is stopped and fails; nothing starts.
    preflight: 'failed',
    backup: { status: 'skipped', message: /^not started: aborted by SIG/ },
    // signals.test.ts covers SIGHUP and SIGQUIT mid-unit.
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
  {
    phase: 'unit',
    command: 'orchestrate',
    config: config({ run: '[sh, block.sh]' }),
    backup: { status: 'failed', message: /aborted/ },
    signals: ['SIGTERM', 'SIGINT'],
  },
  {
    phase: 'verification',
    command: 'orchestrate',
    config: config({ artifact: "            command: [sh, block.sh, '{artifact}']\n" }),
    backup: { status: 'failed', message: /aborted/ },
    check: 'command',
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
  {
    // The checksum's hash job is held in flight by a preload until rearguard has received the signal.
    phase: 'verification (checksum)',
    command: 'verify',
    config: config({ artifact: '            checksum: sidecar\n' }),
    hold: 'out/app.tar.gz',
    backup: { status: 'failed', message: /aborted/ },
    check: 'checksum',
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
  {
    phase: 'restore test',
    command: 'restore-test',
    config: config({ artifact: `            restore: { json: "**/*.json", command: [sh, BLOCK], scratch: ./scratch }\n` }),
    backup: { status: 'failed', message: /aborted/ },
    check: 'restore',
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
  {
    // The upload's data is held mid-transfer by a preload: half the file is in the temp file on the host, the rest
    // and the end of the stream not yet sent. The host holds the last good copy under the final name.
    phase: 'upload (transfer)',
    command: 'orchestrate',
    config: config({ hosts: 'HOSTS', artifact: '            upload: { host: nas, dir: REMOTE }\n' }),
    upload: 'transfer',
    previousCopy: true,
    backup: { status: 'failed', message: /aborted/ },
    check: 'upload',
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
  {
    // The temp file is complete; the host's sha256sum (the blocking step) hashes it before the rename. No copy yet.
    phase: 'upload (remote verification)',
    command: 'orchestrate',
    config: config({ hosts: 'HOSTS', artifact: '            upload: { host: nas, dir: REMOTE }\n' }),
    upload: 'verify',
    previousCopy: false,
    backup: { status: 'failed', message: /aborted/ },
    check: 'upload',
    signals: ['SIGTERM', 'SIGHUP', 'SIGINT'],
  },
] as const;

describe('fault: a stop signal in each phase of a run', () => {
  for (const phase of phases) {
    for (const signal of phase.signals) {
      const upload = 'upload' in phase ? phase.upload : undefined;
      const previousCopy = 'previousCopy' in phase && phase.previousCopy;
      const title = upload
        ? `${signal} during the ${phase.phase}: exit 2, the report names every unit, metrics written, lock released, no temp file and no unverified copy on the host, the previous copy untouched, nothing left running`
        : `${signal} during the ${phase.phase}: exit 2, the report names every unit, metrics written, lock released, scratch removed, nothing left running`;
      // Uploads go over SSH. Under CI a missing sshd fails the file (requireTool throws); only a developer's machine
      // without openssh-server skips the upload rows, and is told what to install.
      it.skipIf(upload !== undefined && !sshdAvailable)(title, async () => {
        const remote = ws.file('nas/backup');
        if (upload) {
          // The host: a real sshd whose sessions run with the workspace's remote-bin first on their PATH.
          await mkdir(ws.file('remote-bin'));
          if (upload === 'verify') {
            await copyFile(ws.file('block.sh'), ws.file('remote-bin/sha256sum'));
            await chmod(ws.file('remote-bin/sha256sum'), 0o755);
          }
          sshd = await startSshd({ setEnv: { PATH: `${ws.file('remote-bin')}:/usr/local/bin:/usr/bin:/bin` } });
          await mkdir(remote, { recursive: true });
          if (previousCopy) await writeFile(path.join(remote, 'app.tar.gz'), PREVIOUS_COPY);
        }
        await ws.write('rearguard.yml', phase.config.replace('BLOCK', ws.file('block.sh')).replace('HOSTS', sshd ? hostYaml(sshd) : '').replace('REMOTE', remote));
        const hold: Record<string, string> | undefined =
          'hold' in phase
            ? { NODE_OPTIONS: `--import ${HOLD_HASH}`, REARGUARD_TEST_HOLD_HASH: phase.hold }
            : upload === 'transfer'
              ? { NODE_OPTIONS: `--import ${HOLD_UPLOAD}`, REARGUARD_TEST_HOLD_UPLOAD: 'out/app.tar.gz' }
              : undefined;
        const run = startCli([phase.command], { cwd: ws.dir, ...(hold && { env: hold }) });
        if (upload === 'transfer') {
          // The fixed point: half the file is in the temp file on the host, the rest held back.
          const line = await waitForLine(run.stderr!, /^injected: holding the upload of .* after \d+ of its bytes$/);
          const sent = Number(/after (\d+) of/.exec(line)![1]);
          await waitUntil(async () => {
            const temps = (await readdir(remote)).filter((name) => name.startsWith('.app.tar.gz.tmp.'));
            return temps.length === 1 && (await stat(path.join(remote, temps[0]!))).size === sent;
          }, `${sent} bytes in the temp file on the host`);
          // The host's `cat` into the temp file is seen by processesIn (by its environment), as a leftover would be.
          expect(processesIn(ws.dir).filter((p) => /^\d+: cat $/.test(p))).toHaveLength(1);
        } else if (hold) {
          // The fixed point: the checksum's hash is in flight.
          await waitForLine(run.stderr!, /^injected: holding the hash of /);
        } else {
          // The fixed point: the blocking step and its child have written their pids.
          pids = (await waitForLines(ws.file('pids'), 2)).map(Number);
          const cwd = (await readFile(ws.file('cwds'), 'utf8')).trim();
          if (phase.phase === 'restore test') expect(cwd).toMatch(new RegExp(`^${ws.file('scratch')}/rearguard-restore-`));
        }
        // No secret in the argv of rearguard or of what it started.
        for (const pid of [run.pid!, ...pids]) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), `argv of pid ${pid}`).not.toContain(SECRET);
        run.kill(signal);
        const result = toCliResult(await run);
        expect(result.exitCode, result.stdout + result.stderr).toBe(2);
        expect(result.stderr).toContain(`received ${signal}: starting nothing new`);
        expect(result.verdictLine).toBe(`verdict: critical (exit 2): aborted by ${signal}`);

        const report = await ws.readJson('report.json');
        expect(report).toMatchObject({ verdict: 'critical', exit_code: 2, reason: `aborted by ${signal}`, command: phase.command });
        if ('preflight' in phase) expect(report.preflight).toMatchObject([{ status: phase.preflight, message: expect.stringMatching(/aborted/) }]);
        // Every unit is named, with its status and why.
        const units = report.stages.flatMap((s: { units: unknown[] }) => s.units) as Array<{ name: string; status: string; message: string; artifacts: any[] }>;
        expect(units.map((u) => u.name)).toEqual(['backup', 'after']);
        expect(units[0]!.status).toBe(phase.backup.status);
        expect(units[0]!.message).toMatch(phase.backup.message);
        expect(units[1]).toMatchObject({ status: 'skipped', message: `not started: aborted by ${signal}` });
        if ('check' in phase) {
          const check = units[0]!.artifacts[0].checks.find((c: { id: string }) => c.id === phase.check);
          expect(check, JSON.stringify(units[0])).toMatchObject({ status: 'failed' });
          expect(check.message).toMatch(/aborted/);
        }
        expect(existsSync(ws.file('after-ran'))).toBe(false);
        expect(await readFile(ws.file('prom/rearguard.prom'), 'utf8')).toMatch(new RegExp(`^rearguard_run_status\\{command="${phase.command}"\\} 2$`, 'm'));
        expect(existsSync(ws.file('state/rearguard.lock'))).toBe(false);
        // The scratch folder of the restore is gone; nothing else was ever put there.
        expect(await readdir(ws.file('scratch'))).toEqual(['.keep']);
        for (const pid of pids) expect(pidAlive(pid), `pid ${pid} still runs`).toBe(false);
        expect(processesIn(ws.dir)).toEqual([]);
        if (upload) {
          const check = units[0]!.artifacts[0].checks.find((c: { id: string }) => c.id === 'upload');
          expect(check.message).toMatch(/temp file \S+ removed; the previous copy \S+ \(if any\) was left as it was/);
          // No temp file on the host; the final name holds the previous good copy, untouched, or nothing at all.
          expect(await readdir(remote)).toEqual(previousCopy ? ['app.tar.gz'] : []);
          if (previousCopy) expect(await readFile(path.join(remote, 'app.tar.gz'), 'utf8')).toBe(PREVIOUS_COPY);
        }
        // No secret in the output, the report, the metrics or the run folder.
        expect(result.stdout + result.stderr).not.toContain(SECRET);
        for (const file of ['report.json', 'prom/rearguard.prom']) expect(await readFile(ws.file(file), 'utf8')).not.toContain(SECRET);
        for (const run of await readdir(ws.file('state/runs'))) {
          for (const name of await readdir(ws.file(`state/runs/${run}`))) {
            const file = ws.file(`state/runs/${run}/${name}`);
            if (!name.endsWith('.log') && !name.endsWith('.json')) continue;
            expect(await readFile(file, 'utf8'), name).not.toContain(SECRET);
          }
        }
      });
    }
  }
});

async function waitUntil(predicate: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Pre-flight reachable and remote units end to end: the built CLI against real loopback sshd servers.
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { freePort, hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';

const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);

let a: Sshd;
let b: Sshd;
let ws: Workspace;
beforeAll(async () => {
  if (!available) return;
  a = await startSshd();
  b = await startSshd({ identityFile: a.identityFile });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function orchestrate(config: string) {
  await ws.write('rearguard.yml', config);
  await rm(ws.file('report.json'), { force: true });
  const result = await runCli(['orchestrate', '--json', 'report.json'], { cwd: ws.dir });
  return { ...result, report: await ws.readJson('report.json') };
}

/** A local unit that leaves a marker, to prove whether units were started. */
const markerUnit = (marker: string): string => `stages:
  - name: app
    units:
      - name: local
        run: [touch, ${marker}]
`;

async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '');
}

describe.runIf(available)('SSH hosts end to end', () => {
  it('a closed port fails pre-flight reachable: exit 2, no unit started', async () => {
    const port = await freePort();
    const { exitCode, verdictLine, report } = await orchestrate(`version: 1
hosts:
${hostYaml({ ...a, port }, 'nas', { retries: 1 })}preflight:
  - reachable: nas
${markerUnit(ws.file('ran'))}`);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/^verdict: critical \(exit 2\)/);
    expect(report.preflight[0]).toMatchObject({ id: 'reachable', status: 'failed' });
    expect(report.preflight[0].message).toContain(`port ${port}) refused`);
    expect(report.preflight[0].message).toContain('after 2 attempts');
    expect(report.stages[0].units[0].status).toBe('skipped');
    await expect(readFile(ws.file('ran'))).rejects.toThrow();
  });

  it('an unknown host key fails pre-flight with the fingerprint, and known_hosts stays untouched', async () => {
    const knownHosts = ws.file('known_hosts');
    await writeFile(knownHosts, `${b.knownHostsLine}\n`);
    const before = createHash('sha256').update(await readFile(knownHosts)).digest('hex');
    const { exitCode, report } = await orchestrate(`version: 1
hosts:
${hostYaml({ ...a, knownHostsFile: knownHosts })}preflight:
  - reachable: nas
${markerUnit(ws.file('ran'))}`);
    expect(exitCode).toBe(2);
    expect(report.preflight[0].message).toContain('is not in');
    expect(report.preflight[0].message).toContain(a.hostKeyFingerprint);
    await expect(readFile(ws.file('ran'))).rejects.toThrow();
    expect(createHash('sha256').update(await readFile(knownHosts)).digest('hex')).toBe(before);
  });

  it('checks remote free space with df, and fails when there is too little', async () => {
    const config = (size: string) => `version: 1
hosts:
${hostYaml(a)}preflight:
  - reachable: nas
    min_free: { path: ${ws.dir}, size: ${size} }
${markerUnit(ws.file('ran'))}`;
    const ok = await orchestrate(config('1KB'));
    expect(ok.exitCode).toBe(0);
    expect(ok.report.preflight[0].message).toMatch(/login ok in \d+ms; .* free \(need 1000 B\)/);
    const tooLittle = await orchestrate(config('500TB'));
    expect(tooLittle.exitCode).toBe(2);
    expect(tooLittle.report.preflight[0].message).toMatch(/free, need at least/);
  });

  it('runs units on several hosts over SSH, with env from the unit, output in the unit log', async () => {
    const { exitCode, report } = await orchestrate(`version: 1
hosts:
${hostYaml(a, 'nas')}${hostYaml(b, 'db')}stages:
  - name: remote
    units:
      - name: on-nas
        host: nas
        run: [sh, -c, 'printf "%s" "$BACKUP_TOKEN" > "$1"; echo nas-says-hi', sh, ${ws.file('nas.out')}]
        env: { BACKUP_TOKEN: "tok'en with spaces" }
        timeout: 30s
        artifacts:
          - path: ${ws.file('nas.out')}
      - name: on-db
        host: db
        shell: 'echo "db $((6*7))" > ${ws.file('db.out')}; echo db-says-hi >&2'
        timeout: 30s
        artifacts:
          - path: ${ws.file('db.out')}
`);
    expect(exitCode).toBe(0);
    expect(await readFile(ws.file('nas.out'), 'utf8')).toBe("tok'en with spaces");
    expect(await readFile(ws.file('db.out'), 'utf8')).toBe('db 42\n');
    const units = report.stages[0].units;
    expect(units.map((u: any) => [u.name, u.host, u.status])).toEqual([
      ['on-nas', 'nas', 'ok'],
      ['on-db', 'db', 'ok'],
    ]);
    expect(await readFile(units[0].log, 'utf8')).toContain('nas-says-hi');
    expect(await readFile(units[1].log, 'utf8')).toContain('db-says-hi');
    // The secret is a unit env value: it never reaches the report.
    expect(JSON.stringify(report)).not.toContain("tok'en");
  });

  it('a remote unit that times out is reported as timeout and leaves no remote process behind', async () => {
    const pids = ws.file('pids');
    const { exitCode, report } = await orchestrate(`version: 1
hosts:
${hostYaml(a)}stages:
  - name: remote
    units:
      - name: stuck
        host: nas
        run: [sh, -c, '(trap "" TERM; sleep 300) & echo $! > "$1"; echo $$ >> "$1"; sleep 300', sh, ${pids}]
        timeout: 2s
        kill_grace: 1s
`);
    expect(exitCode).toBe(2);
    expect(report.stages[0].units[0].status).toBe('timeout');
    expect(report.stages[0].units[0].message).toMatch(/^timed out after 2(\.0)?s/);
    const list = (await readFile(pids, 'utf8')).trim().split('\n').map(Number);
    expect(list).toHaveLength(2);
    for (const pid of list) expect(await alive(pid)).toBe(false);
  });
});

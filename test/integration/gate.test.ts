// The deploy gate end to end: the built CLI, real processes, real files, exit codes, verdict line and JSON report.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

/** A unit that writes `out/<name>.bin` and its sha256 sidecar, then exits with `code`. */
function writer(name: string, extra = '', code = 0): string {
  return `      - name: ${name}
        run: [sh, -c, 'mkdir -p out && head -c 2048 /dev/urandom > out/${name}.bin && sha256sum out/${name}.bin | sed "s| out/| |" > out/${name}.bin.sha256 && exit ${code}']
        timeout: 30s
${extra}        artifacts:
          - path: out/${name}.bin
            checksum: sidecar
            size: { min: 1KB }
`;
}

const failer = (name: string, extra = ''): string => `      - name: ${name}
        run: [sh, -c, 'echo "disk quota exceeded" >&2; exit 3']
        timeout: 30s
${extra}`;

async function orchestrate(config: string): Promise<{ exitCode: number; verdictLine: string; report: any; stdout: string }> {
  await ws.write('rearguard.yml', config);
  const result = await runCli(['orchestrate', '--json', 'report.json'], { cwd: ws.dir });
  return { ...result, report: await ws.readJson('report.json') };
}

describe('deploy gate', () => {
  it('exits 0 when every unit and check passed, and the verdict is the last line', async () => {
    const { exitCode, verdictLine, report } = await orchestrate(`version: 1
stages:
  - name: first
    units:
${writer('a')}${writer('b')}  - name: second
    units:
${writer('c')}`);
    expect(exitCode).toBe(0);
    expect(verdictLine).toBe('verdict: ok (exit 0): all 3 unit(s) and 12 check(s) passed');
    expect(report).toMatchObject({ schema: 'rearguard.report/v1', command: 'orchestrate', verdict: 'ok', exit_code: 0, failure_ratio: 0 });
    expect(report.stages.map((s: any) => s.units.map((u: any) => [u.name, u.status]))).toEqual([
      [['a', 'ok'], ['b', 'ok']],
      [['c', 'ok']],
    ]);
    expect(report.stages[0].units[0].artifacts[0].checks.map((c: any) => c.id)).toEqual(['exists', 'fresh', 'size', 'checksum']);
  });

  it('exits 1 when a non-critical unit failed below the failure ratio, and later stages still run', async () => {
    const { exitCode, verdictLine, report } = await orchestrate(`version: 1
stages:
  - name: first
    units:
${failer('broken')}${writer('a')}${writer('b')}
  - name: second
    units:
${writer('c')}`);
    expect(exitCode).toBe(1);
    expect(verdictLine).toMatch(/^verdict: partial \(exit 1\): 1 of 4 units failed \(broken\), none critical/);
    const broken = report.stages[0].units[0];
    expect(broken).toMatchObject({ status: 'failed', exit_code: 3, message: 'exited with 3' });
    expect(broken.log_tail).toContain('disk quota exceeded');
    expect(report.stages[1].units[0].status).toBe('ok');
  });

  it('exits 2 when a critical unit failed', async () => {
    const { exitCode, verdictLine } = await orchestrate(`version: 1
stages:
  - name: db
    units:
${failer('pgbackrest', '        critical: true\n')}${writer('a')}${writer('b')}${writer('c')}`);
    expect(exitCode).toBe(2);
    expect(verdictLine).toBe('verdict: critical (exit 2): critical unit failed: pgbackrest');
  });

  it('exits 2 when the failure ratio reaches gate.max_failure_ratio', async () => {
    const { exitCode, verdictLine, report } = await orchestrate(`version: 1
gate: { max_failure_ratio: 0.5 }
stages:
  - name: s
    units:
${failer('x')}${writer('a')}`);
    expect(exitCode).toBe(2);
    expect(verdictLine).toMatch(/1 of 2 units failed \(x\): failure ratio 0\.50 ≥ 0\.5/);
    expect(report.failure_ratio).toBe(0.5);
  });

  it('never lets a warning-level stage make the run critical', async () => {
    const { exitCode, verdictLine, report } = await orchestrate(`version: 1
stages:
  - name: snapshots
    level: warning
    units:
${failer('sanoid', '        critical: true\n')}${failer('zfs-snap')}
  - name: app
    units:
${writer('a')}`);
    expect(exitCode).toBe(1);
    expect(verdictLine).toMatch(/^verdict: partial \(exit 1\): 2 warning-level failure\(s\) \(sanoid, zfs-snap\)/);
    expect(report.stages[0].units[0]).toMatchObject({ status: 'failed', level: 'warning', critical: false });
  });

  it('reports a unit whose process exited 0 as failed when its verification failed', async () => {
    const { exitCode, report } = await orchestrate(`version: 1
stages:
  - name: s
    units:
      - name: lazy
        run: [sh, -c, 'echo "backup complete"; exit 0']
        artifacts:
          - path: out/never-written.tar.gz
`);
    expect(exitCode).toBe(2);
    const unit = report.stages[0].units[0];
    expect(unit.exit_code).toBe(0);
    expect(unit.status).toBe('failed');
    expect(unit.message).toMatch(/exited with 0, but verification failed: exists: no file matches .*out\/never-written\.tar\.gz/);
  });

  it('downgrades only to partial when a warning-level check fails', async () => {
    const { exitCode, report } = await orchestrate(`version: 1
stages:
  - name: s
    units:
      - name: small
        run: [sh, -c, 'mkdir -p out && echo tiny > out/small.txt']
        artifacts:
          - path: out/small.txt
            size: { min: 1MB, level: warning }
`);
    expect(exitCode).toBe(1);
    expect(report.stages[0].units[0].status).toBe('warning');
    expect(report.stages[0].units[0].artifacts[0].checks.find((c: any) => c.id === 'size')).toMatchObject({ status: 'warning', level: 'warning' });
  });

  it('retries a failed unit with backoff and reports the attempts', async () => {
    const { exitCode, report } = await orchestrate(`version: 1
stages:
  - name: s
    units:
      - name: flaky
        run: [sh, -c, 'if [ -f tried ]; then exit 0; fi; touch tried; exit 1']
        retries: 2
        retry_delay: 100ms
`);
    expect(exitCode).toBe(0);
    expect(report.stages[0].units[0]).toMatchObject({ status: 'ok', attempts: 2 });
    expect(report.stages[0].units[0].message).toMatch(/after 2 attempts/);
  });

  it('honours --only and --skip, and refuses names that match no unit', async () => {
    await ws.write('rearguard.yml', `version: 1
stages:
  - name: s
    units:
${writer('a')}${failer('b')}`);
    const only = await runCli(['orchestrate', '--only', 'a', '--json', 'only.json'], { cwd: ws.dir });
    expect(only.exitCode).toBe(0);
    expect((await ws.readJson('only.json')).counts).toMatchObject({ planned: 1, attempted: 1 });
    const skip = await runCli(['orchestrate', '--skip', 'b'], { cwd: ws.dir });
    expect(skip.exitCode).toBe(0);
    const unknown = await runCli(['orchestrate', '--only', 'nope'], { cwd: ws.dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown unit or stage "nope" in --only\/--skip; units are: a, b/);
  });

  it('bounds a stage by its concurrency', async () => {
    const unitsYaml = [1, 2, 3, 4]
      .map((i) => `      - name: u${i}
        run: [sh, -c, 'mkdir -p slots; ln -s x slots/u${i}; n=$(ls slots | wc -l); echo $n > peak-u${i}; sleep 0.3; rm slots/u${i}']
`)
      .join('');
    const { exitCode } = await orchestrate(`version: 1
stages:
  - name: s
    concurrency: 2
    units:
${unitsYaml}`);
    expect(exitCode).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const peaks = await Promise.all([1, 2, 3, 4].map(async (i) => Number((await readFile(ws.file(`peak-u${i}`), 'utf8')).trim())));
    expect(Math.max(...peaks)).toBeLessThanOrEqual(2);
  });
});

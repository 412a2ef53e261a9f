// audit lists upload temp files that interrupted uploads left in offsite folders, over a real sshd.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, runCli, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { freePort, hostYaml, startSshd, type Sshd } from '../helpers/sshd.js';

const available = requireTool('sshd', 'apt-get install openssh-server', ['/usr/sbin']);

let sshd: Sshd;
let ws: Workspace;
beforeAll(async () => {
  if (available) sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

describe.runIf(available)('audit of offsite folders', () => {
  it('reports upload temp files older than an hour, leaves them in place, and names folders it cannot list', async () => {
    const remote = ws.file('nas/backup');
    await mkdir(remote, { recursive: true });
    await writeFile(`${remote}/db.bin`, 'good copy');
    await writeFile(`${remote}/.db.bin.tmp.20261120T010000Z-ab12`, 'half an upload');
    const old = new Date(Date.now() - 3 * 3600_000);
    await utimes(`${remote}/.db.bin.tmp.20261120T010000Z-ab12`, old, old);
    await writeFile(`${remote}/.db.bin.tmp.20261121T210000Z-cd34`, 'an upload in progress right now');
    const closedPort = await freePort();
    await ws.write('rearguard.yml', `version: 1
hosts:
${hostYaml(sshd, 'nas')}  gone:
    ssh: root@127.0.0.1
    port: ${closedPort}
    known_hosts: ${sshd.knownHostsFile}
    connect_timeout: 2s
    retries: 0
stages:
  - name: s
    units:
      - name: db
        run: [sh, -c, 'true']
        artifacts:
          - path: out/db.bin
            upload: { host: nas, dir: ${remote} }
          - path: out/other.bin
            offsite: { host: gone, dir: /srv/backup }
`);
    const result = await runCli(['audit', '--json', 'audit.json'], { cwd: ws.dir });
    const report = await ws.readJson('audit.json');
    const orphaned = report.preflight.filter((f: any) => f.id === 'orphaned-temp');
    expect(orphaned).toHaveLength(1);
    expect(orphaned[0]).toMatchObject({
      status: 'warning',
      target: `nas:${remote}/.db.bin.tmp.20261120T010000Z-ab12`,
      message: expect.stringMatching(/leftover upload temp file .* \(14 B, last written .*\): an interrupted upload/),
    });
    const unlisted = report.preflight.find((f: any) => f.id === 'offsite-folder');
    expect(unlisted).toMatchObject({ status: 'warning', target: 'gone:/srv/backup', message: expect.stringMatching(/cannot list gone:\/srv\/backup/) });
    expect(result.exitCode).toBeGreaterThanOrEqual(1);
    // Read-only: nothing was removed or added on the host.
    expect((await readdir(remote)).sort()).toEqual(['.db.bin.tmp.20261120T010000Z-ab12', '.db.bin.tmp.20261121T210000Z-cd34', 'db.bin']);
  });
});

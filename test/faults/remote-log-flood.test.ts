// Fault: a unit run over SSH floods its output. The local log stays within the cap, with the head, the tail and the wrapper's markers intact (exit code and leftovers still read from them).
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSshExec } from '../../src/exec/ssh.js';
import { makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { resolvedHostFor, SSHD, startSshd, type Sshd } from '../helpers/sshd.js';

const available = requireTool(SSHD, 'apt-get install openssh-server openssh-client') && requireTool('ssh', 'apt-get install openssh-client');

describe.runIf(available)('fault: a remote unit floods its output', () => {
  let sshd: Sshd;
  let ws: Workspace;
  beforeAll(async () => {
    ws = await makeWorkspace('rearguard-fault-remote-flood-');
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
    await ws?.cleanup();
  });

  it('caps the local log at log_max, keeps the first and last lines, and still reads the exit code', async () => {
    const exec = createSshExec({ hosts: { nas: resolvedHostFor(sshd) }, stateDir: ws.file('state'), env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' } });
    const log = ws.file('remote.log');
    const logMax = 256 * 1024;
    try {
      const result = await exec.runRemote('nas', { argv: ['sh', '-c', 'seq 1 400000; exit 3'], timeoutMs: 60_000, killGraceMs: 500, logFile: log, logMax });
      expect(result.exitCode).toBe(3);
      expect(result.logTruncated?.droppedBytes).toBeGreaterThan(2_000_000);
      const text = await readFile(log, 'utf8');
      expect((await stat(log)).size).toBeLessThan(logMax + 1024);
      expect(text).toMatch(/^(?:.*\n)*?1\n2\n3\n/);
      expect(text).toMatch(/\n399999\n400000\n/);
      expect(text).toMatch(/\[rearguard \S+\] log_max: \d+ bytes of output dropped here/);
    } finally {
      await exec.close();
    }
  });
});

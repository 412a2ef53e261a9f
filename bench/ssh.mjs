#!/usr/bin/env node
// `node bench/ssh.mjs` (after `npm run build`): 200 units over 4 loopback sshd hosts through the built CLI,
// against the same 200 units run locally and against a fresh ssh login per command, to show the per-unit
// cost of the SSH path with connection reuse. Needs /usr/sbin/sshd and root (like the integration tests).
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'rearguard');
const UNITS = Number(process.env.BENCH_SSH_UNITS ?? 200);
const HOSTS = 4;
const PER_HOST = Number(process.env.BENCH_SSH_PER_HOST ?? 4);
const FRESH_SAMPLES = 20;

async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway sshd like test/helpers/sshd.ts (SHLVL=1 keeps the login user's .bashrc out of the figures). */
async function startSshd(dir, identity) {
  await mkdir('/run/sshd', { recursive: true });
  await mkdir(dir, { recursive: true });
  const hostKey = path.join(dir, 'host_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${identity}.pub`));
  const port = await freePort();
  const [type, key] = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/);
  await writeFile(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${type} ${key}\n`);
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      `PidFile ${dir}/sshd.pid`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'SetEnv SHLVL="1"',
      '',
    ].join('\n'),
  );
  let log = '';
  const child = execa('/usr/sbin/sshd', ['-D', '-e', '-f', config], { reject: false, all: true, buffer: false });
  child.all.on('data', (d) => (log += d));
  while (!log.includes('Server listening')) {
    if (child.exitCode !== null) throw new Error(`sshd failed:\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, dir, knownHosts: path.join(dir, 'known_hosts'), logins: () => (log.match(/Accepted publickey/g) ?? []).length, stop: () => child.kill('SIGTERM') };
}

function config(hosts, identity, remote, units = UNITS, concurrency = HOSTS * PER_HOST) {
  const hostLines = hosts
    .map((h, i) => `  h${i}:\n    ssh: root@127.0.0.1\n    port: ${h.port}\n    identity_file: ${identity}\n    known_hosts: ${h.knownHosts}\n    concurrency: ${PER_HOST}\n`)
    .join('');
  const list = Array.from({ length: units }, (_, i) => `      - name: u${i}\n        run: ["true"]\n        timeout: 60s\n${remote ? `        host: h${i % HOSTS}\n` : ''}`).join('');
  return `version: 1\nhosts:\n${hostLines}stages:\n  - name: all\n    concurrency: ${concurrency}\n    units:\n${list}`;
}

async function runCli(dir) {
  const started = performance.now();
  const result = await execa(process.execPath, [BIN, 'orchestrate', '-c', 'rearguard.yml', '--json', 'report.json', '--quiet'], { cwd: dir, reject: false, env: { CI: 'true' } });
  const wallMs = performance.now() - started;
  const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8'));
  const units = report.stages.flatMap((s) => s.units);
  const ok = units.filter((u) => u.status === 'ok').length;
  const meanUnitMs = units.reduce((n, u) => n + u.duration_ms, 0) / units.length;
  return { exitCode: result.exitCode, wallMs, runMs: report.duration_ms, ok, meanUnitMs };
}

async function main() {
  if (!existsSync(path.join(ROOT, 'dist/src/exec/ssh.js'))) throw new Error('build first: npm run build');
  if (!existsSync('/usr/sbin/sshd')) throw new Error('needs /usr/sbin/sshd: apt-get install openssh-server');
  const work = await mkdtemp(path.join(os.tmpdir(), 'rearguard-bench-ssh-'));
  const hosts = [];
  try {
    const identity = path.join(work, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', identity]);
    for (let i = 0; i < HOSTS; i += 1) hosts.push(await startSshd(path.join(work, `sshd${i}`), identity));

    const localDir = path.join(work, 'local');
    const remoteDir = path.join(work, 'remote');
    const serialDir = path.join(work, 'serial');
    for (const dir of [localDir, remoteDir, serialDir]) await mkdir(dir);
    await writeFile(path.join(localDir, 'rearguard.yml'), config(hosts, identity, false));
    await writeFile(path.join(remoteDir, 'rearguard.yml'), config(hosts, identity, true));
    await writeFile(path.join(serialDir, 'rearguard.yml'), config(hosts, identity, true, FRESH_SAMPLES * HOSTS, 1));

    const loginsBefore = hosts.reduce((n, h) => n + h.logins(), 0);
    const local = await runCli(localDir);
    const remote = await runCli(remoteDir);
    const logins = hosts.reduce((n, h) => n + h.logins(), 0) - loginsBefore;
    const serial = await runCli(serialDir);

    // Without reuse: every command pays a TCP connect, key exchange and login.
    const h = hosts[0];
    const args = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${h.knownHosts}`, '-o', 'ControlPath=none', '-i', identity, '-p', String(h.port), '--', 'root@127.0.0.1', 'true'];
    const freshStart = performance.now();
    for (let i = 0; i < FRESH_SAMPLES; i += 1) await execa('ssh', args, { stdin: 'ignore' });
    const freshMs = (performance.now() - freshStart) / FRESH_SAMPLES;

    const fmt = (ms) => `${ms.toFixed(0)} ms`;
    console.log(`rearguard SSH benchmark: ${UNITS} units of "true", ${HOSTS} loopback sshd hosts, ${PER_HOST} commands at once per host, stage concurrency ${HOSTS * PER_HOST}`);
    console.log(`machine: ${os.cpus().length} CPU(s), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
    console.log('');
    console.log('| run | exit | units ok | run time | per unit (wall / units) | mean unit duration | SSH logins |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| local (no host) | ${local.exitCode} | ${local.ok}/${UNITS} | ${fmt(local.runMs)} | ${fmt(local.runMs / UNITS)} | ${fmt(local.meanUnitMs)} | - |`);
    console.log(`| over SSH, reused | ${remote.exitCode} | ${remote.ok}/${UNITS} | ${fmt(remote.runMs)} | ${fmt(remote.runMs / UNITS)} | ${fmt(remote.meanUnitMs)} | ${logins} |`);
    console.log(`| over SSH, reused, one unit at a time (${FRESH_SAMPLES * HOSTS} units) | ${serial.exitCode} | ${serial.ok}/${FRESH_SAMPLES * HOSTS} | ${fmt(serial.runMs)} | ${fmt(serial.runMs / (FRESH_SAMPLES * HOSTS))} | ${fmt(serial.meanUnitMs)} | ${HOSTS} |`);
    console.log(`| fresh ssh login per command (sequential, ${FRESH_SAMPLES} samples) | | | | ${fmt(freshMs)} | ${fmt(freshMs)} | 1 per command |`);
    console.log('');
    console.log(`SSH path with reuse: ${fmt((remote.runMs - local.runMs) / UNITS)} of run time per unit over local units when ${HOSTS * PER_HOST} run at once; ${fmt(serial.meanUnitMs)} per unit one at a time, against ${fmt(freshMs)} for a bare fresh ssh login.`);
    if (remote.exitCode !== 0 || local.exitCode !== 0 || serial.exitCode !== 0) process.exitCode = 1;
  } finally {
    for (const h of hosts) h.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();

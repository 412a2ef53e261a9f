// ssh argv building, ssh_options refusal and error classification (pure).
import { ARTIFACT_KINDS } from '../../../src/cli/artifact-kinds.js';
import { describe, expect, it } from 'vitest';
import { parseRawConfig } from '../../../src/config/load.js';
import type { ResolvedHost } from '../../../src/config/types.js';
import { ConfigError } from '../../../src/errors.js';
import { buildSshArgs, sshPathValue } from '../../../src/exec/ssh-args.js';
import { classifySshFailure } from '../../../src/exec/ssh-errors.js';
import { findUnsafeSshOption } from '../../../src/exec/ssh-options.js';
import { parseSshG, fingerprintKey } from '../../../src/exec/ssh-host-key.js';

const host: ResolvedHost = {
  name: 'nas',
  destination: 'backup@192.168.1.13',
  port: 2222,
  identityFile: '/root/.ssh/nas key',
  knownHosts: '/etc/rearguard/known_hosts',
  connectTimeoutMs: 7_500,
  retries: 2,
  sshOptions: { Compression: 'yes' },
};

const optionValues = (args: string[]): string[] => args.flatMap((a, i) => (args[i - 1] === '-o' ? [a] : []));

describe('buildSshArgs', () => {
  it('runs in batch mode, verifies host keys strictly and never writes known_hosts', () => {
    const options = optionValues(buildSshArgs(host, { kind: 'client', controlPath: '/s/c0' }));
    expect(options).toEqual(
      expect.arrayContaining([
        'BatchMode=yes',
        'ConnectTimeout=8',
        'StrictHostKeyChecking=yes',
        'UpdateHostKeys=no',
        'CheckHostIP=no',
        'UserKnownHostsFile=/etc/rearguard/known_hosts',
        'IdentitiesOnly=yes',
        'ControlPath=/s/c0',
        'ControlMaster=no',
        'Compression=yes',
      ]),
    );
    // ssh keeps the first value of an option: ours come before the user's.
    expect(options.indexOf('StrictHostKeyChecking=yes')).toBeLessThan(options.indexOf('Compression=yes'));
  });

  it('ends with -- and the destination, so nothing after can be read as an option', () => {
    const args = buildSshArgs(host, { kind: 'client' });
    expect(args.slice(-2)).toEqual(['--', 'backup@192.168.1.13']);
    expect(args).toContain('ControlPath=none');
    expect(args.slice(args.indexOf('-p'), args.indexOf('-p') + 2)).toEqual(['-p', '2222']);
    expect(args.slice(args.indexOf('-i'), args.indexOf('-i') + 2)).toEqual(['-i', '"/root/.ssh/nas key"']);
  });

  it('opens a master in the background with a short ControlPersist, and controls it', () => {
    const master = buildSshArgs(host, { kind: 'master', controlPath: '/s/c0', persistSeconds: 60 });
    expect(optionValues(master)).toEqual(expect.arrayContaining(['ControlMaster=yes', 'ControlPersist=60']));
    expect(master).toEqual(expect.arrayContaining(['-N', '-f']));
    const exit = buildSshArgs(host, { kind: 'control', controlPath: '/s/c0', command: 'exit' });
    expect(exit.slice(exit.indexOf('-O'), exit.indexOf('-O') + 2)).toEqual(['-O', 'exit']);
  });

  it('refuses destinations that would be read as options', () => {
    expect(() => buildSshArgs({ ...host, destination: '-oProxyCommand=touch /tmp/x' }, { kind: 'client' })).toThrow(/refusing ssh destination/);
    expect(() => buildSshArgs({ ...host, destination: '-x@nas' }, { kind: 'client' })).toThrow(/refusing/);
    expect(() => buildSshArgs({ ...host, sshOptions: { StrictHostKeyChecking: 'no' } }, { kind: 'client' })).toThrow(/StrictHostKeyChecking/);
  });

  it('escapes % tokens and quotes spaces in paths ssh expands', () => {
    expect(sshPathValue('/state/100%/c0')).toBe('/state/100%%/c0');
    expect(sshPathValue('/my state/c0')).toBe('"/my state/c0"');
    expect(() => sshPathValue('/a"b')).toThrow(/double quote/);
  });
});

describe('ssh_options refusal', () => {
  it.each([
    ['StrictHostKeyChecking', 'no'],
    ['stricthostkeychecking', 'accept-new'],
    ['UserKnownHostsFile', '/dev/null'],
    ['GlobalKnownHostsFile', '/dev/null'],
    ['CheckHostIP', 'yes'],
    ['NoHostAuthenticationForLocalhost', 'yes'],
    ['HostKeyAlias', 'other'],
    ['KnownHostsCommand', '/bin/echo'],
    ['BatchMode', 'no'],
    ['ControlPath', '/tmp/x'],
  ])('refuses %s=%s with a reason', (key, value) => {
    expect(findUnsafeSshOption(key, value)).toMatch(/known_hosts|host key|host-key|rearguard/);
  });

  it('allows harmless options', () => {
    expect(findUnsafeSshOption('Compression', 'yes')).toBeUndefined();
    expect(findUnsafeSshOption('ProxyJump', 'bastion')).toBeUndefined();
    expect(findUnsafeSshOption('StrictHostKeyChecking', 'yes')).toBeUndefined();
  });

  it('is enforced by the config schema, naming the option and the reason', async () => {
    let message = '';
    try {
      await parseRawConfig(
        `version: 1
hosts:
  nas:
    ssh: backup@nas
    ssh_options: { UserKnownHostsFile: /dev/null }
stages:
  - name: s
    units:
      - { name: u, run: ["true"] }
`,
        '/etc/rearguard.yml', ARTIFACT_KINDS
      );
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain('hosts.nas.ssh_options.UserKnownHostsFile');
    expect(message).toContain('refused ssh option UserKnownHostsFile=/dev/null');
  });

  it('refuses hosts and users starting with "-" in the config', async () => {
    await expect(
      parseRawConfig(
        `version: 1
hosts:
  nas: { ssh: "-oProxyCommand=id" }
stages:
  - name: s
    units:
      - { name: u, run: ["true"] }
`,
        '/etc/rearguard.yml', ARTIFACT_KINDS
      ),
    ).rejects.toThrow(/neither starts with "-"/);
  });
});

describe('remote unit config', () => {
  it('refuses cwd on a unit with host, saying what to do instead', async () => {
    await expect(
      parseRawConfig(
        `version: 1
hosts:
  nas: { ssh: backup@nas }
stages:
  - name: s
    units:
      - { name: u, host: nas, run: [backup.sh], cwd: /srv }
`,
        '/etc/rearguard.yml', ARTIFACT_KINDS
      ),
    ).rejects.toThrow(/cwd has no effect with host: .*use shell: "cd \/dir && \.\.\." instead/);
  });
});

describe('classifySshFailure', () => {
  const where = { name: 'nas', destination: 'backup@nas', port: 22, knownHosts: '/kh' };
  it('tells network failures (retryable) from setup failures (not)', () => {
    expect(classifySshFailure('ssh: connect to host nas port 22: Connection refused', where)).toMatchObject({ kind: 'refused', retryable: true });
    expect(classifySshFailure('ssh: connect to host nas port 22: Connection timed out', where)).toMatchObject({ kind: 'timeout', retryable: true });
    expect(classifySshFailure('backup@nas: Permission denied (publickey).', where)).toMatchObject({ kind: 'auth', retryable: false });
    expect(
      classifySshFailure('No ED25519 host key is known for [nas]:22 and you have requested strict checking.\nHost key verification failed.', where),
    ).toMatchObject({ kind: 'hostkey-unknown', retryable: false });
  });

  it('names the new fingerprint of a changed host key', () => {
    const output = `@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
The fingerprint for the ED25519 key sent by the remote host is
SHA256:9lY9qJgkVfTHYVr4WOEZ+F3yCLz3Uqk8SPJx7F7rbfw.
Offending ED25519 key in /kh:1
Host key verification failed.`;
    const failure = classifySshFailure(output, where);
    expect(failure).toMatchObject({ kind: 'hostkey-changed', retryable: false, fingerprint: 'SHA256:9lY9qJgkVfTHYVr4WOEZ+F3yCLz3Uqk8SPJx7F7rbfw' });
    expect(failure.message).toContain('/kh:1');
  });

  it('reads ssh -G and computes fingerprints as ssh does', () => {
    expect(parseSshG('user backup\nhostname 10.0.0.5\nport 2200\n')).toEqual({ hostname: '10.0.0.5', port: 2200 });
    expect(fingerprintKey(Buffer.from('abc').toString('base64'))).toBe('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });
});

// Which `ssh_options` a config may not set: anything that weakens host-key checking or that rearguard manages.

/** Options rearguard sets itself; overriding them would break connection reuse or batch behaviour. */
const MANAGED: Record<string, string> = {
  batchmode: 'rearguard always runs ssh with BatchMode=yes: a prompt would hang a deploy gate',
  controlmaster: 'rearguard manages connection reuse itself (a ControlMaster per host and run)',
  controlpath: 'rearguard keeps control sockets in a private folder of state_dir',
  controlpersist: 'rearguard closes its shared connections at the end of each run',
  connecttimeout: 'use the host\'s connect_timeout key instead',
  port: 'use the host\'s port key instead',
  identityfile: 'use the host\'s identity_file key instead',
};

/** Options that would turn off or bypass host-key verification, with the reason. */
const HOST_KEY: Record<string, (value: string) => string | undefined> = {
  stricthostkeychecking: (v) =>
    v.toLowerCase() === 'yes'
      ? undefined
      : `StrictHostKeyChecking=${v} accepts unknown or changed host keys (or adds them to known_hosts); rearguard always verifies host keys against known_hosts`,
  userknownhostsfile: () => 'use the host\'s known_hosts key instead (a file such as /dev/null would disable host-key checking)',
  globalknownhostsfile: () => 'GlobalKnownHostsFile changes which keys are trusted; list trusted keys in the host\'s known_hosts file',
  checkhostip: () => 'rearguard sets CheckHostIP=no so that known_hosts is never modified',
  updatehostkeys: () => 'rearguard sets UpdateHostKeys=no so that known_hosts is never modified',
  nohostauthenticationforlocalhost: (v) =>
    v.toLowerCase() === 'no' ? undefined : 'NoHostAuthenticationForLocalhost=yes turns off host-key checking for local addresses',
  hostkeyalias: () => 'HostKeyAlias makes ssh check another entry of known_hosts than the host\'s own',
  knownhostscommand: () => 'KnownHostsCommand lets a program decide which host keys are trusted',
  verifyhostkeydns: (v) =>
    v.toLowerCase() === 'no' ? undefined : 'VerifyHostKeyDNS trusts host keys published in DNS; list them in known_hosts instead',
  revokedhostkeys: () => 'RevokedHostKeys belongs in ~/.ssh/config, not in rearguard.yml',
};

/**
 * Returns why `key=value` may not be used as an extra `-o` option, or undefined when it may.
 * Option names are case-insensitive, as in ssh.
 */
export function findUnsafeSshOption(key: string, value: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) return `"${key}" is not an ssh option name (letters and digits only)`;
  if (/[\r\n\0]/.test(value)) return `the value of ${key} contains a line break or NUL`;
  const lower = key.toLowerCase();
  const hostKey = HOST_KEY[lower];
  if (hostKey) return hostKey(value);
  return MANAGED[lower];
}

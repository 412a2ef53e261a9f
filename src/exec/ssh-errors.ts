// Reads what ssh printed when it could not connect, and says what went wrong and what to do.

/** Why a connection failed. */
export type SshFailureKind =
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'closed'
  | 'hostkey-unknown'
  | 'hostkey-changed'
  | 'auth'
  | 'config'
  | 'other';

/** A classified connection failure. */
export interface SshFailure {
  kind: SshFailureKind;
  /** Worth another try after a backoff (the network, not the setup, failed). */
  retryable: boolean;
  /** One sentence: what was expected, what was found, what to do. */
  message: string;
  /** Fingerprint printed by ssh for a changed key. */
  fingerprint?: string;
}

/** Where a host is, for messages: "backup@nas (port 2222)". */
export interface SshWhere {
  name: string;
  destination: string;
  port?: number;
  knownHosts?: string;
}

const RULES: Array<{ test: RegExp; kind: SshFailureKind; retryable: boolean }> = [
  { test: /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i, kind: 'hostkey-changed', retryable: false },
  { test: /No \S+ host key is known for|Host key verification failed/i, kind: 'hostkey-unknown', retryable: false },
  { test: /Permission denied|Too many authentication failures|no mutual signature/i, kind: 'auth', retryable: false },
  { test: /Bad configuration option|no argument after keyword|Unsupported option|command-line line \d+:|Bad port|Keyword \S+ extra arguments|terminating, \d+ bad configuration options/i, kind: 'config', retryable: false },
  { test: /Connection refused/i, kind: 'refused', retryable: true },
  { test: /timed out|Operation timed out|Connection timed out/i, kind: 'timeout', retryable: true },
  { test: /Could not resolve hostname|Name or service not known|Temporary failure in name resolution/i, kind: 'dns', retryable: true },
  { test: /Connection closed|Connection reset|kex_exchange_identification|Broken pipe|Network is unreachable|No route to host|lost connection/i, kind: 'closed', retryable: true },
];

/** Classifies ssh's stderr of a failed connection (exit 255 before the remote command started). */
export function classifySshFailure(output: string, where: SshWhere): SshFailure {
  const text = output.replace(/\r/g, '');
  const rule = RULES.find((r) => r.test.test(text));
  const kind = rule?.kind ?? 'other';
  const target = `${where.name} (${where.destination}${where.port !== undefined ? ` port ${where.port}` : ''})`;
  const known = where.knownHosts ?? '~/.ssh/known_hosts';
  const lastLine = text.split('\n').map((l) => l.trim()).filter(Boolean).pop() ?? 'no message';
  switch (kind) {
    case 'hostkey-changed': {
      const fingerprint = /(SHA256:[A-Za-z0-9+/=]{20,})/.exec(text)?.[1];
      const offending = /Offending \S+ key in (\S+)/.exec(text)?.[1];
      return {
        kind,
        retryable: false,
        ...(fingerprint && { fingerprint }),
        message: `the host key of ${target} has CHANGED: the server now offers ${fingerprint ?? 'a different key'}, which does not match ${offending ?? known}. This is either a reinstalled server or a man-in-the-middle; check the fingerprint on the server itself (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then replace that line of known_hosts. rearguard never changes known_hosts`,
      };
    }
    case 'hostkey-unknown':
      return {
        kind,
        retryable: false,
        message: `the host key of ${target} is not in ${known}, and host keys are always verified. Check the server's fingerprint out of band (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server), then add it to ${known}. rearguard never adds host keys itself`,
      };
    case 'auth':
      return {
        kind,
        retryable: false,
        message: `${target} refused the login (${lastLine}): expected the host's identity_file (or a key of ssh-agent) to be in the remote user's authorized_keys; check identity_file and the user in hosts.${where.name}.ssh`,
      };
    case 'config':
      return { kind, retryable: false, message: `ssh rejected its options for ${target}: ${lastLine}; check ssh_options and ~/.ssh/config` };
    case 'refused':
      return { kind, retryable: true, message: `connection to ${target} refused: expected sshd to listen there; is it running and is the port right?` };
    case 'timeout':
      return { kind, retryable: true, message: `connection to ${target} timed out (${lastLine}); check that the host is up and reachable, or raise connect_timeout` };
    case 'dns':
      return { kind, retryable: true, message: `cannot resolve ${target}: ${lastLine}; check the host name in hosts.${where.name}.ssh or ~/.ssh/config` };
    case 'closed':
      return { kind, retryable: true, message: `connection to ${target} was closed before login (${lastLine}); the server or the network dropped it` };
    default:
      return { kind, retryable: true, message: `cannot connect to ${target}: ${lastLine}` };
  }
}

// The POSIX sh wrapper every remote command runs under: env from stdin, own process group, stopped when the session ends.
import { randomBytes } from 'node:crypto';
import { isShellVariableName, quoteShellArg, quoteShellCommand } from '../util/shell-quote.js';

/**
 * How the remote command's stdin is used.
 * - watch: the command reads /dev/null; the wrapper watches the session's stdin and, when it
 *   closes (rearguard stopped the command, or the connection died), terminates the command's
 *   whole process group: SIGTERM, then SIGKILL after the grace period.
 * - pass: the command reads the rest of stdin (upload data); end of data ends it.
 */
export type StdinMode = 'watch' | 'pass';

/**
 * The wrapper, run as `sh -c WRAPPER rearguard-remote <nonce> <grace-seconds> <mode> argv...`.
 * 1. Reads `export NAME='value'` lines from stdin up to the end line, so values never appear in argv.
 * 2. Starts argv in a new process group (setsid, else perl setpgrp; else only the command itself
 *    can be signalled) and prints a marker with its pid: rearguard knows the command started
 *    (a failure after this is never retried) and can kill it through a second session.
 * 3. After argv exits, the watcher is killed (by pid, then by group), and whatever argv left in its
 *    group gets SIGTERM, then SIGKILL.
 */
const WRAPPER = [
  'n=$1; g=$2; m=$3; shift 3',
  `nl=$(printf '\\nx'); nl=\${nl%x}`,
  'ok=; while IFS= read -r l; do if [ "$l" = "rearguard-env-end-$n" ]; then ok=1; break; fi; eval "$l" || exit 125; done',
  'if [ -z "$ok" ]; then echo "rearguard: the session closed before the command could start" >&2; exit 125; fi',
  'if command -v setsid >/dev/null 2>&1 || command -v perl >/dev/null 2>&1; then s=-; else s=; fi',
  `grp() { if command -v setsid >/dev/null 2>&1; then exec setsid "$@"; elif command -v perl >/dev/null 2>&1; then exec perl -e 'setpgrp(0, 0); exec { $ARGV[0] } @ARGV or die "$ARGV[0]: $!\\n"' "$@"; else exec "$@"; fi; }`,
  'exec 3<&0',
  'echo "[rearguard remote $n] starting" >&2',
  // The command's own process announces its pid before exec, so the marker precedes all its output.
  `r='echo "[rearguard remote $1] pid=$$ target=$2$$" >&2; shift 2; exec "$@"'`,
  'if [ "$m" = pass ]; then grp sh -c "$r" rearguard-run "$n" "$s" "$@" <&3 3<&- & else grp sh -c "$r" rearguard-run "$n" "$s" "$@" </dev/null 3<&- & fi',
  'p=$!',
  "trap '' PIPE HUP",
  'w=',
  `if [ "$m" = watch ]; then grp sh -c 'cat >/dev/null; kill -s TERM -- "$1" 2>/dev/null; sleep "$2"; kill -s KILL -- "$1" 2>/dev/null' rearguard-watch "$s$p" "$g" <&3 >/dev/null 2>&1 & w=$!; fi`,
  'exec 3<&-',
  'wait "$p"; rc=$?',
  // The watcher by its pid first: a command that ends at once can get here before the watcher's setsid made its group.
  'if [ -n "$w" ]; then kill -s KILL -- "$w" "$s$w" 2>/dev/null; fi',
  'if [ -n "$s" ] && kill -s 0 -- "-$p" 2>/dev/null; then echo "[rearguard remote $n] leftovers" >&2; kill -s TERM -- "-$p" 2>/dev/null; i=0; while [ "$i" -lt "$g" ] && kill -s 0 -- "-$p" 2>/dev/null; do sleep 1; i=$((i+1)); done; kill -s KILL -- "-$p" 2>/dev/null; fi',
  // The last word: without it, an exit 255 of ssh means the connection was lost, not the command's status.
  'echo "[rearguard remote $n] exit=$rc" >&2',
  'exit "$rc"',
].join('; ');

/** A random token that ties markers and the env end line to one remote run. */
export function makeNonce(): string {
  return randomBytes(6).toString('hex');
}

/** Seconds the remote side waits between SIGTERM and SIGKILL (whole seconds, at least 1). */
export function graceSeconds(killGraceMs: number): number {
  return Math.max(1, Math.ceil(killGraceMs / 1000));
}

/** The command line sent to the remote login shell (argv is passed as positional parameters). */
export function buildRemoteCommand(argv: readonly string[], options: { nonce: string; killGraceMs: number; mode: StdinMode }): string {
  if (argv.length === 0) throw new Error('a remote command needs a program');
  return `exec sh -c ${quoteShellArg(WRAPPER)} rearguard-remote ${options.nonce} ${graceSeconds(options.killGraceMs)} ${options.mode} ${quoteShellCommand(argv)}`;
}

/** The lines written to the session's stdin before anything else: exports, then the end line. */
export function buildEnvBlock(env: Record<string, string>, nonce: string): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!isShellVariableName(name)) throw new Error(`cannot export "${name}" on a remote host: expected a shell variable name (letters, digits, _)`);
    if (value.includes('\0')) throw new Error(`cannot export ${name} on a remote host: its value contains a NUL byte`);
    // Newlines become "$nl" (set by the wrapper) so each export stays on one line.
    const quoted = value
      .split('\n')
      .map((part) => `'${part.replace(/'/g, `'\\''`)}'`)
      .join('"$nl"');
    lines.push(`export ${name}=${quoted}`);
  }
  lines.push(`rearguard-env-end-${nonce}`);
  return `${lines.join('\n')}\n`;
}

/** What the wrapper reported about one run. */
export interface RemoteMarkers {
  /** The wrapper got as far as starting the command: a failure after this is never retried. */
  started: boolean;
  /** Pid of the command, and what to signal: "-pid" (its group) or "pid". */
  pid?: number;
  killTarget?: string;
  /** The command left processes in its group, which were terminated. */
  leftovers: boolean;
  /** The exit status the wrapper reported as its last word; missing when the session ended before it. */
  exitCode?: number;
}

/** Finds the wrapper's markers of run `nonce` in output (the command's output may surround them). */
export function parseMarkers(output: string, nonce: string): RemoteMarkers {
  const started = output.includes(`[rearguard remote ${nonce}] starting`);
  const pid = new RegExp(`\\[rearguard remote ${nonce}\\] pid=(\\d+) target=(-?\\d+)`).exec(output);
  const leftovers = output.includes(`[rearguard remote ${nonce}] leftovers`);
  const exit = new RegExp(`\\[rearguard remote ${nonce}\\] exit=(\\d+)`).exec(output);
  return {
    started: started || pid !== null,
    ...(pid?.[1] && pid[2] && { pid: Number(pid[1]), killTarget: pid[2] }),
    leftovers,
    ...(exit?.[1] !== undefined && { exitCode: Number(exit[1]) }),
  };
}

/** Removes the wrapper's markers from captured output. */
export function stripMarkers(output: string, nonce: string): string {
  return output.replace(new RegExp(`\\[rearguard remote ${nonce}\\] (?:starting|leftovers|exit=\\d+|pid=\\d+ target=-?\\d+)(?:\\r?\\n|$)`, 'g'), '');
}

/** argv that stops a remote command through another session, given its marker's kill target. */
export function buildKillArgv(killTarget: string, killGraceMs: number): string[] {
  if (!/^-?\d+$/.test(killTarget)) throw new Error(`not a process or group id: ${killTarget}`);
  return [
    'sh',
    '-c',
    'kill -s TERM -- "$1" 2>/dev/null || exit 0; i=0; while [ "$i" -lt "$2" ] && kill -s 0 -- "$1" 2>/dev/null; do sleep 1; i=$((i+1)); done; kill -s KILL -- "$1" 2>/dev/null; exit 0',
    'rearguard-kill',
    killTarget,
    String(graceSeconds(killGraceMs)),
  ];
}

// Quoting for a remote POSIX shell: arguments are always passed as data, never pasted in as code.

const SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * Quotes one argument for a POSIX shell (sh, bash, dash, ash, zsh). Plain words stay readable;
 * everything else is single-quoted with `'` written as `'\''`. NUL cannot be passed and is refused.
 */
export function quoteShellArg(arg: string): string {
  if (arg.includes('\0')) throw new Error(`cannot pass an argument containing a NUL byte to a remote shell: ${JSON.stringify(arg.slice(0, 40))}`);
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Quotes an argv into one command line for a remote shell. */
export function quoteShellCommand(argv: readonly string[]): string {
  return argv.map(quoteShellArg).join(' ');
}

/** True when `name` can be exported by a POSIX shell (`export NAME=...`). */
export function isShellVariableName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

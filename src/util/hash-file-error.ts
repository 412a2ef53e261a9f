// Errors of the hash pool: a file that cannot be hashed, and a hash stopped by its AbortSignal.

const ADVICE: Record<string, string> = {
  ENOENT: 'expected a file there, found nothing; check the path or glob and that the backup wrote it',
  EACCES: 'expected a readable file, permission was denied; run rearguard as a user that may read it',
  EPERM: 'expected a readable file, the operation was not permitted; run rearguard as a user that may read it',
  EISDIR: 'expected a regular file, found a directory; point the artifact at a file',
  EINVAL: 'expected a regular file, not a device, FIFO or socket',
  ELOOP: 'expected a file, found a loop of symbolic links; fix the links',
  EIO: 'expected the disk to read, it reported an I/O error; check the disk and filesystem',
};

/** A file the pool could not hash; `code` is the errno name, as on Node's own fs errors. */
export class HashFileError extends Error {
  override name = 'HashFileError';
  constructor(
    readonly file: string,
    readonly code: string | undefined,
    readonly syscall: string | undefined,
    detail: string,
  ) {
    const advice = code !== undefined ? ADVICE[code] : undefined;
    // Node's own messages already start with the code ("EACCES: permission denied, open ..."): said once.
    const said = code !== undefined && !detail.startsWith(code) ? `${code}: ${detail}` : detail;
    super(`cannot hash ${file}: ${advice ? `${advice} (${said})` : detail}`);
  }
}

/** The rejection of a hash stopped by its signal; named and coded like the AbortError of Node's streams. */
export class HashAbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(file: string, reason: unknown) {
    super(`hashing ${file} was aborted${typeof reason === 'string' ? ` by ${reason}` : ''}`, { cause: reason });
  }
}

// Whether a process exists: signal 0 is delivered to nobody, but tells ESRCH (gone) from EPERM (alive, someone else's).

/** True while a process with this pid exists, ours or another user's. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Starts one local child with node:child_process and resolves at its exit: the little the local runner needs
// of a process library, without its per-call cost (a run of 200 short units starts 200 of them).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How the child's descriptors are set up. */
export interface ChildStdio {
  /** Text written to stdin, then closed. */
  input?: string;
  /** A stream piped to stdin; stdin closes at its end, and the stream is stopped when the child exits first. */
  inputStream?: Readable;
  /** An open descriptor for stdout, or 'pipe' to read it from `child.stdout`. */
  stdout: number | 'pipe';
  /** An open descriptor for stderr. */
  stderr: number;
}

/** How the child ended: its exit, or why it never started. */
export interface ChildExit {
  exitCode: number | null;
  signal?: NodeJS.Signals;
  /** Set when the program could not be started (the spawn itself failed). */
  startError?: NodeJS.ErrnoException;
  /** Set when whatever reported the exit was lost while the program ran (the run's launcher died): its exit status is unknown. */
  lost?: string;
  /** The run's launcher removed the program's cgroup at its exit: it was empty, nothing of the program is left. */
  cgroupRemoved?: true;
}

export interface StartedChild {
  /** Undefined when the spawn failed. */
  pid: number | undefined;
  stdout: Readable | null;
  /** Resolves when the program exits (not when its output ends: a process it left may still hold that). */
  exited: Promise<ChildExit>;
}

/** Starts `file` with `args` in its own process group; never throws, a failed start is in `exited`. */
export function spawnChild(file: string, args: string[], options: { cwd?: string; env: Record<string, string> } & ChildStdio): StartedChild {
  const stdin = options.input !== undefined || options.inputStream ? 'pipe' : 'ignore';
  let child: ChildProcess;
  try {
    child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: true, stdio: [stdin, options.stdout, options.stderr] });
  } catch (error) {
    return { pid: undefined, stdout: null, exited: Promise.resolve({ exitCode: null, startError: error as NodeJS.ErrnoException }) };
  }
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ exitCode: null, startError: error }));
    child.once('exit', (code, signal) => resolve({ exitCode: code, ...(signal && { signal }) }));
  });
  if (child.stdin) {
    // A program that exits without reading its input closes the pipe: that is its answer, not rearguard's error.
    child.stdin.on('error', () => undefined);
    if (options.inputStream) {
      const source = options.inputStream;
      source.once('error', () => child.stdin?.destroy());
      source.pipe(child.stdin);
      void exited.then(() => {
        if (!source.readableEnded) {
          source.unpipe(child.stdin!);
          source.destroy();
        }
      });
    } else {
      child.stdin.end(options.input);
    }
  }
  return { pid: child.pid, stdout: child.stdout, exited };
}

// The shared connection to one host (OpenSSH ControlMaster): opened once with retries, checked when idle, closed at run end.
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { ResolvedHost } from '../config/types.js';
import { buildSshArgs } from './ssh-args.js';
import { classifySshFailure, type SshFailure } from './ssh-errors.js';
import { scanHostKeyFingerprints } from './ssh-host-key.js';
import { retryDelay, sleepUnlessAborted } from './ssh-retry.js';

/** How long an idle shared connection stays up after its last command (ControlPersist). */
export const PERSIST_SECONDS = 60;
/** A failed login is remembered this long, so a hundred units on a dead host fail fast. */
const FAILURE_MEMORY_MS = 20_000;

/** Outcome of opening the connection. */
export type Connection = { ok: true; attempts: number } | { ok: false; failure: SshFailure; attempts: number };

/** Opens, checks and closes the shared connection of one host. */
export class SshMaster {
  private opening: Promise<Connection> | undefined;
  private failed: { at: number; connection: Connection } | undefined;
  private lastUsed = Date.now();
  private users = 0;
  private started = false;

  constructor(
    private readonly host: ResolvedHost,
    private readonly controlPath: string,
    private readonly scratchDir: string,
    private readonly env: Record<string, string>,
    private readonly retryBaseMs: number,
  ) {}

  /** Makes sure the shared connection is up (retrying with backoff); resolves with why not otherwise. */
  async connect(signal?: AbortSignal): Promise<Connection> {
    if (this.failed && Date.now() - this.failed.at < FAILURE_MEMORY_MS) return this.failed.connection;
    // ControlPersist ends an idle master; look before relying on it again.
    if (this.opening && this.users === 0 && Date.now() - this.lastUsed > (PERSIST_SECONDS * 1000) / 2) {
      const current = await this.opening;
      if (current.ok && !(await this.control('check'))) this.opening = undefined;
    }
    this.opening ??= this.open(signal);
    const connection = await this.opening;
    if (!connection.ok) {
      this.opening = undefined;
      this.failed = { at: Date.now(), connection };
    } else {
      this.failed = undefined;
    }
    return connection;
  }

  /** Forgets the connection, e.g. after a command found it gone; the next connect() checks again. */
  reset(): void {
    this.opening = undefined;
  }

  /** Counts commands in flight, so an idle connection is checked before reuse. */
  use(): () => void {
    this.users += 1;
    return () => {
      this.users -= 1;
      this.lastUsed = Date.now();
    };
  }

  /** Closes the shared connection (ssh -O exit). */
  async close(): Promise<void> {
    if (this.started) await this.control('exit');
    rmSync(this.controlPath, { force: true });
  }

  private async open(signal?: AbortSignal): Promise<Connection> {
    // A master may survive from an earlier attempt: reuse it rather than start a second one.
    if (await this.control('check')) return { ok: true, attempts: 0 };
    rmSync(this.controlPath, { force: true });
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const outcome = await this.startOnce(signal);
      if (outcome === undefined) {
        this.started = true;
        return { ok: true, attempts };
      }
      if (!outcome.retryable || attempts > this.host.retries || signal?.aborted) {
        return { ok: false, failure: await this.explain(outcome, attempts), attempts };
      }
      if (!(await sleepUnlessAborted(retryDelay(attempts, this.retryBaseMs), signal))) {
        return { ok: false, failure: await this.explain(outcome, attempts), attempts };
      }
    }
  }

  /** One `ssh -M -N -f`: resolves undefined once logged in, or the classified failure. */
  private async startOnce(signal?: AbortSignal): Promise<SshFailure | undefined> {
    const logFile = path.join(this.scratchDir, `master-${this.host.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.log`);
    rmSync(logFile, { force: true });
    const fd = openSync(logFile, 'a+', 0o600);
    try {
      // The forked master keeps this descriptor: a file, not a pipe, so nobody waits on it.
      const sink = fd as unknown as 'inherit';
      const result = await execa('ssh', buildSshArgs(this.host, { kind: 'master', controlPath: this.controlPath, persistSeconds: PERSIST_SECONDS }), {
        env: this.env,
        extendEnv: false,
        stdin: 'ignore',
        stdout: sink,
        stderr: sink,
        reject: false,
        timeout: 2 * this.host.connectTimeoutMs + 5_000,
        ...(signal && { cancelSignal: signal }),
      });
      if (result.exitCode === 0) return undefined;
      const output = readFileSync(logFile, 'utf8');
      if (result.timedOut) {
        return { kind: 'timeout', retryable: true, message: `login to ${this.where()} did not finish within ${Math.round((2 * this.host.connectTimeoutMs + 5_000) / 1000)}s` };
      }
      if (result.isCanceled) return { kind: 'other', retryable: false, message: `login to ${this.where()} was cancelled: the run was aborted` };
      if (result.exitCode === undefined) {
        return { kind: 'config', retryable: false, message: `could not start ssh: ${result.code === 'ENOENT' ? 'program not found (install the OpenSSH client)' : result.shortMessage}` };
      }
      return classifySshFailure(output, this.host);
    } finally {
      closeSync(fd);
    }
  }

  private async explain(failure: SshFailure, attempts: number): Promise<SshFailure> {
    let message = failure.message;
    if (failure.kind === 'hostkey-unknown') {
      const offered = await scanHostKeyFingerprints(this.host, this.env).catch(() => []);
      if (offered.length > 0) message = message.replace(' and host keys are always verified.', ` and host keys are always verified; the server offers ${offered.join(', ')}.`);
    }
    if (attempts > 1) message += ` (after ${attempts} attempts)`;
    return { ...failure, message };
  }

  /** `ssh -O check|exit` on the control socket; true when it succeeded. */
  private async control(command: 'check' | 'exit'): Promise<boolean> {
    const result = await execa('ssh', buildSshArgs(this.host, { kind: 'control', controlPath: this.controlPath, command }), {
      env: this.env,
      extendEnv: false,
      stdin: 'ignore',
      reject: false,
      timeout: 5_000,
    });
    return result.exitCode === 0;
  }

  private where(): string {
    return `${this.host.name} (${this.host.destination}${this.host.port !== undefined ? ` port ${this.host.port}` : ''})`;
  }
}

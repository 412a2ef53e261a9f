// Runs commands on one SSH host: shared connection, per-host limit, retries only before a command started.
import pLimit, { type LimitFunction } from 'p-limit';
import type { ResolvedHost } from '../config/types.js';
import { buildEnvBlock, buildKillArgv, buildRemoteCommand, makeNonce, parseMarkers, stripMarkers } from './remote-wrapper.js';
import { buildSshArgs } from './ssh-args.js';
import { classifySshFailure } from './ssh-errors.js';
import { SshMaster } from './ssh-master.js';
import { DEFAULT_LOG_MAX } from './capped-log.js';
import { openOutputSink, type OutputSummary } from './output-sink.js';
import { openSshOutput } from './ssh-output.js';
import { runSshProcess } from './ssh-process.js';
import { retryDelay, sleepUnlessAborted } from './ssh-retry.js';
import { quoteShellCommand } from '../util/shell-quote.js';
import type { ProcessResult, ProcessSpec } from './types.js';

/** Commands at once on a host whose `concurrency` is not set: below sshd's default MaxSessions (10). */
export const DEFAULT_HOST_CONCURRENCY = 8;
const DEFAULT_CAPTURE = 64 * 1024;
/** The wrapper prints its start marker before any output of the command, so it is near the start. */
const MARKER_WINDOW = 64 * 1024;
/** How long output may still arrive once the ssh client has exited (the shared connection writes it). */
const SSH_DRAIN_MS = 2_000;

/** What an SshHost needs from the run. */
export interface SshHostOptions {
  host: ResolvedHost;
  controlPath: string;
  scratchDir: string;
  /** Environment of the local ssh client (HOME, SSH_AUTH_SOCK, ...). */
  clientEnv: Record<string, string>;
  /** rearguard's own environment: only variables a spec adds or changes are exported remotely. */
  baseEnv: Record<string, string>;
  retryBaseMs: number;
}

/** One configured host during one run. */
export class SshHost {
  readonly master: SshMaster;
  private readonly limit: LimitFunction;

  constructor(private readonly options: SshHostOptions) {
    this.master = new SshMaster(options.host, options.controlPath, options.scratchDir, options.clientEnv, options.retryBaseMs);
    this.limit = pLimit(options.host.concurrency ?? DEFAULT_HOST_CONCURRENCY);
  }

  /** Commands running or waiting for a slot on this host. */
  get pending(): number {
    return this.limit.activeCount + this.limit.pendingCount;
  }

  /** Runs `spec.argv` on the host under the remote wrapper; waits for a free slot of the host first. */
  run(spec: ProcessSpec): Promise<ProcessResult> {
    return this.limit(() => this.runNow(spec));
  }

  private async runNow(spec: ProcessSpec): Promise<ProcessResult> {
    const startedAt = Date.now();
    const host = this.options.host;
    const finish = (partial: Partial<ProcessResult> & Pick<ProcessResult, 'exitCode'>): ProcessResult => ({
      timedOut: false,
      aborted: spec.signal?.aborted ?? false,
      output: '',
      leftovers: false,
      ...partial,
      durationMs: Date.now() - startedAt,
    });
    if (spec.signal?.aborted) return finish({ exitCode: null, aborted: true, startError: 'not started: the run was aborted' });
    let envBlockFor: (nonce: string) => string;
    try {
      const remoteEnv = this.remoteEnv(spec.env, spec.exportEnv);
      envBlockFor = (nonce) => buildEnvBlock(remoteEnv, nonce);
      buildRemoteCommand(spec.argv, { nonce: 'check', killGraceMs: spec.killGraceMs, mode: 'watch' });
    } catch (error) {
      return finish({ exitCode: null, startError: `cannot run on ${host.name}: ${(error as Error).message}` });
    }

    const output = openSshOutput(spec.logFile, this.options.scratchDir);
    const release = this.master.use();
    try {
      let attempt = 0;
      for (;;) {
        attempt += 1;
        const connection = await this.master.connect(spec.signal);
        if (!connection.ok) {
          return finish({ exitCode: 255, startError: connection.failure.message, aborted: spec.signal?.aborted ?? false });
        }
        const nonce = makeNonce();
        const offset = output.size();
        const mode = spec.inputStream || spec.input !== undefined ? 'pass' : 'watch';
        const remote = buildRemoteCommand(spec.argv, { nonce, killGraceMs: spec.killGraceMs, mode });
        const input = spec.input !== undefined ? spec.input : '';
        // Through a pipe into a capped log, as for local units: a remote flood fills no local disk.
        // The cap keeps at least the marker window at the head, where the wrapper's start marker is.
        const sink = await openOutputSink({
          logFile: output.file,
          logMax: Math.max(2 * MARKER_WINDOW, spec.logFile ? (spec.logMax ?? DEFAULT_LOG_MAX) : 2 * (spec.maxCaptureBytes ?? DEFAULT_CAPTURE)),
          captureMax: 0,
        });
        let summary: OutputSummary | undefined;
        const result = await runSshProcess({
          args: [...buildSshArgs(host, { kind: 'client', controlPath: this.options.controlPath }), remote],
          env: this.options.clientEnv,
          stdinPrefix: envBlockFor(nonce) + input,
          ...(spec.inputStream && { inputStream: spec.inputStream }),
          ...(spec.input !== undefined && !spec.inputStream && { closeAfterPrefix: true }),
          outputFd: sink.fd,
          ...(spec.stdoutStream && { stdoutStream: spec.stdoutStream }),
          onSpawned: () => sink.closeWriteEnd(),
          timeoutMs: Math.max(1, spec.timeoutMs - (Date.now() - startedAt)),
          killGraceMs: spec.killGraceMs,
          ...(spec.signal && { signal: spec.signal }),
          forceStop: () => this.forceStop(parseMarkers(output.read(offset, MARKER_WINDOW), nonce).killTarget, spec.killGraceMs),
        }).finally(async () => {
          summary = await sink.finish(SSH_DRAIN_MS);
        });
        const head = output.read(offset, MARKER_WINDOW);
        const markers = parseMarkers(head + output.tail(offset, 4096), nonce);
        const neverStarted = result.exitCode === 255 && !markers.started && !result.timedOut && !result.aborted;
        if (neverStarted) {
          const failure = classifySshFailure(stripMarkers(output.tail(offset, 8192), nonce), host);
          // The data of an input stream was consumed, and an output stream ended: only the caller can start again.
          if (failure.retryable && attempt <= host.retries && !spec.inputStream && !spec.stdoutStream) {
            this.master.reset();
            if (await sleepUnlessAborted(retryDelay(attempt, this.options.retryBaseMs), spec.signal)) continue;
          }
          return finish({ exitCode: 255, startError: failure.message, output: this.captured(spec, output, offset, nonce) });
        }
        // ssh exits 255 for its own failures: after the start, without the wrapper's last word, the link broke.
        const lost = result.exitCode === 255 && markers.exitCode === undefined && !result.timedOut && !result.aborted;
        return finish({
          exitCode: result.exitCode,
          ...(lost && {
            connectionLost: `the connection to ${host.name} (${host.destination}) was lost while the command ran (ssh exited with 255 before the command's exit status arrived); whether it finished on the host is unknown`,
          }),
          ...(result.signal && { signal: result.signal }),
          timedOut: result.timedOut,
          aborted: result.aborted,
          leftovers: markers.leftovers,
          ...(result.startError && { startError: result.startError }),
          output: this.captured(spec, output, offset, nonce),
          ...(spec.logFile && summary?.truncated && { logTruncated: { bytes: summary.bytes, droppedBytes: summary.droppedBytes } }),
        });
      }
    } finally {
      release();
      output.close();
    }
  }

  /** Variables of `env` that differ from rearguard's own environment (the unit's env and env_file), and those named in `always`. */
  private remoteEnv(env: Record<string, string> | undefined, always: readonly string[] = []): Record<string, string> {
    const extra: Record<string, string> = {};
    for (const [key, value] of Object.entries(env ?? {})) if (this.options.baseEnv[key] !== value || always.includes(key)) extra[key] = value;
    return extra;
  }

  private captured(spec: ProcessSpec, output: ReturnType<typeof openSshOutput>, offset: number, nonce: string): string {
    if (spec.logFile) return '';
    return stripMarkers(output.tail(offset, spec.maxCaptureBytes ?? DEFAULT_CAPTURE), nonce);
  }

  /** Kills a remote command through a second session (its own session did not end). */
  private async forceStop(killTarget: string | undefined, killGraceMs: number): Promise<void> {
    if (!killTarget) return;
    const output = openSshOutput(undefined, this.options.scratchDir);
    try {
      await runSshProcess({
        args: [...buildSshArgs(this.options.host, { kind: 'client', controlPath: this.options.controlPath }), quoteShellCommand(buildKillArgv(killTarget, killGraceMs))],
        env: this.options.clientEnv,
        stdinPrefix: '',
        closeAfterPrefix: true,
        outputFd: output.fd,
        timeoutMs: this.options.host.connectTimeoutMs + killGraceMs + 5_000,
        killGraceMs: 1_000,
        forceStop: async () => undefined,
      });
    } finally {
      output.close();
    }
  }
}

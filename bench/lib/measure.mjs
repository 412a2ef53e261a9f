// Timing helpers of the benchmarks: whole commands, wall time by the clock, peak memory by /usr/bin/time.
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs argv once; returns wall ms, peak RSS in MiB (when /usr/bin/time is there), exit code, stdout and stderr. */
export function runOnce(argv, options = {}) {
  const wrapped = TIME ? [TIME, '-f', '@@maxrss %M', ...argv] : argv;
  const started = performance.now();
  const child = spawnSync(wrapped[0], wrapped.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  const ms = performance.now() - started;
  if (child.error) throw new Error(`${argv[0]} could not start: ${child.error.message}`);
  const rss = /@@maxrss (\d+)/.exec(child.stderr ?? '');
  const stderr = (child.stderr ?? '').replace(/@@maxrss \d+\n?/, '');
  return { ms, rssMiB: rss ? Number(rss[1]) / 1024 : undefined, code: child.status, stdout: child.stdout, stderr };
}

/** Runs each command `rounds` times, interleaved so load changes hit all alike; returns the runs per command. */
export function runSideBySide(commands, rounds, check = () => {}) {
  const runs = commands.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    commands.forEach((argv, i) => {
      const run = runOnce(argv);
      check(run, i);
      runs[i].push(run);
    });
  }
  return runs;
}

/** The median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time and median peak RSS of runs. */
export function summarize(runs) {
  const rss = runs.map((r) => r.rssMiB).filter((v) => v !== undefined);
  return { ms: median(runs.map((r) => r.ms)), rssMiB: rss.length ? median(rss) : undefined };
}

/** "1.23 s" or "456 ms". */
export function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

/** A markdown table from rows of cells; a `|` inside a cell (a yardstick's shell pipeline) is escaped, so it stays one cell. */
export function markdownTable(header, rows) {
  const line = (cells) => `| ${cells.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// The live view on a real pseudo-terminal of 40 rows x 100 columns, with 200 units at concurrency 8: a compact
// frame that never outgrows the screen, running units with elapsed time and timeout, failures printed as they
// happen and kept, no "(queued)" lines, and the summary in place of the frame at the end. An audit too large
// for the tree prints plain lines.
import { stripVTControlCharacters } from 'node:util';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeWorkspace, type Workspace } from '../helpers/cli.js';
import { requireTool } from '../helpers/require-tool.js';
import { waitForLine } from '../helpers/wait-line.js';
import { ScreenReplay } from '../helpers/screen-replay.js';

const ROWS = 40;
const COLUMNS = 100;
const UNITS = 200;
const LONG_NAME = `nightly-volume-snapshot-of-the-${'very-'.repeat(20)}long-name`;
const FAILING = Array.from({ length: UNITS }, (_v, i) => i).filter((i) => i % 40 === 17);
const nameOf = (i: number): string => (i === 5 ? LONG_NAME : `db-${String(i).padStart(3, '0')}`);

function config(): string {
  const units = Array.from({ length: UNITS }, (_v, i) => {
    const run = FAILING.includes(i) ? `[sh, -c, 'echo dumping; echo disk full >&2; exit 3']` : `[sleep, '${i % 8 === 0 || i === 5 ? '1.5' : '0.2'}']`;
    return `      - name: ${nameOf(i)}\n        run: ${run}\n        timeout: 1m\n`;
  });
  return `version: 1\nstate_dir: ./.rearguard\nstages:\n  - name: dumps\n    concurrency: 8\n    units:\n${units.join('')}`;
}

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace('rearguard-live-');
});
afterEach(async () => {
  await ws.cleanup();
});

// The compact renderer's redraw: back to the top of the last frame, erase below.
// eslint-disable-next-line no-control-regex
const REDRAW = /(\r\u001b\[\d+A\u001b\[J)/;
const HEADER = /^rearguard orchestrate {2}(\d+)\/200 done · (\d+) running · (\d+) queued · (\d+) failed · [\d.]+s$/;

// util-linux's `script` (Debian: bsdutils) gives the CLI a real pseudo-terminal.
const HAVE_SCRIPT = requireTool('script', 'apt-get install bsdutils');

describe('live view on a short terminal', () => {
  it.runIf(HAVE_SCRIPT)('200 units at concurrency 8 in 40 rows: header, running units with timeouts, failures kept, nothing cut', async () => {
    await ws.write('rearguard.yml', config());
    const started = Date.now();
    // `script` gives the CLI a real pseudo-terminal; stty sizes it (a fresh pty is 0x0).
    const result = await execa('script', ['-qec', `stty rows ${ROWS} cols ${COLUMNS}; ${process.execPath} ${BIN} orchestrate`, '/dev/null'], {
      cwd: ws.dir,
      reject: false,
      env: { CI: '', TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: undefined },
      extendEnv: true,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode).toBe(1);
    const raw = result.stdout;
    expect(raw).not.toContain('(queued)');
    expect(raw).toContain('\u001b[');

    // Replay what the terminal showed, one redraw at a time, and look at the screen after each.
    const term = new ScreenReplay(ROWS, COLUMNS);
    // Split at each redraw (the separators are kept: the emulator moves up and erases as the terminal did).
    const parts = raw.split(REDRAW);
    const redraws = [parts[0]!, ...Array.from({ length: (parts.length - 1) / 2 }, (_v, i) => parts[2 * i + 1]! + parts[2 * i + 2]!)];
    expect(redraws.length, raw.slice(-3000)).toBeGreaterThan(20);
    let fullFrames = 0;
    let cutName = false;
    for (const [index, redraw] of redraws.entries()) {
      term.write(redraw);
      // The last one erases the frame and prints the summary table, which may be wider than the terminal.
      if (index === redraws.length - 1) break;
      expect(term.wraps, `a line wider than the terminal in redraw ${index}`).toBe(0);
      // One frame on the screen, none left behind in the scrollback by a short erase.
      expect(term.all().filter((line) => HEADER.test(line)), `redraw ${index}`).toHaveLength(1);
      // The frame: from the header down to the cursor's row.
      const above = term.aboveCursor(ROWS);
      const top = above.findIndex((line) => HEADER.test(line));
      expect(top, `the header is on the screen after redraw ${index}`).toBeGreaterThanOrEqual(0);
      const frame = above.slice(top);
      expect(frame.length).toBeLessThanOrEqual(ROWS - 1);
      const [, done, running, queued, failed] = HEADER.exec(frame[0]!)!.map(Number);
      expect(done! + running! + queued!).toBe(UNITS);
      expect(running!).toBeLessThanOrEqual(8);
      const runningLines = frame.filter((line) => / {2}\S \S.* {2}\d+\.\ds \/ timeout 1m00s$/.test(line));
      expect(runningLines).toHaveLength(running!);
      if (running === 8) fullFrames += 1;
      if (runningLines.some((line) => line.includes('nightly-volume-snapshot') && line.includes('…'))) cutName = true;
      expect(frame.at(-1)).toMatch(new RegExp(`^✔ \\d+ passed( · ✖ ${failed} failed)? · ${queued} queued$`));
      // Every failure so far is named in the frame, and printed right above it or in the scrollback.
      if (failed! > 0) expect(frame.at(-2)).toBe(`✖ failed: ${FAILING.slice(0, failed).map(nameOf).join(', ')}`);
      const printed = term.all().filter((line) => /^✖ dumps\/db-\d{3} failed in/.test(line));
      expect(printed).toHaveLength(failed!);
    }
    expect(fullFrames).toBeGreaterThan(5);
    expect(cutName).toBe(true);

    // At the end the frame is gone; each failure is there once with its log tail, then the summary and the verdict.
    const all = term.all();
    expect(all.some((line) => HEADER.test(line))).toBe(false);
    for (const i of FAILING) {
      const at = all.findIndex((line) => new RegExp(`^✖ dumps/${nameOf(i)} failed in \\d+ms: exited with 3$`).test(line));
      expect(at, nameOf(i)).toBeGreaterThanOrEqual(0);
      expect(all.slice(at + 1, at + 3)).toEqual(['    | dumping', '    | disk full']);
    }
    expect(all.filter((line) => /^dumps {2}(db-\d{3}|nightly-)/.test(line))).toHaveLength(UNITS);
    // The verdict line is longer than 100 columns: the terminal wrapped it into two rows.
    expect(all.filter((line) => line !== '').slice(-2).join('')).toMatch(/^verdict: partial \(exit 1\): 5 of 200 units failed \(db-017, db-057, db-097, db-137, db-177\)/);
    expect(seconds).toBeLessThan(45);
  });

  it.runIf(HAVE_SCRIPT)('Ctrl-C during the frame: the notice stays on the screen, the frame goes, the verdict follows', async () => {
    const units = Array.from({ length: 60 }, (_v, i) => `      - name: u${i}\n        run: [sleep, '30']\n        timeout: 1m\n`);
    await ws.write('rearguard.yml', `version: 1\nstate_dir: ./.rearguard\nstages:\n  - name: main\n    concurrency: 8\n    units:\n${units.join('')}`);
    const child = execa('script', ['-qec', `stty rows ${ROWS} cols ${COLUMNS}; exec ${process.execPath} ${BIN} orchestrate`, '/dev/null'], {
      cwd: ws.dir,
      reject: false,
      env: { CI: '', TERM: 'xterm-256color' },
    });
    // The fixed point: a frame with all eight units running.
    await waitForLine(child.stdout!, /0\/60 done · 8 running · 52 queued/);
    const pid = Number((await execa('pgrep', ['-P', String(child.pid)])).stdout.trim());
    process.kill(pid, 'SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(2);
    const term = new ScreenReplay(ROWS, COLUMNS);
    term.write(result.stdout);
    const all = term.all();
    expect(all.filter((line) => line.startsWith('received SIGINT: starting nothing new'))).toHaveLength(1);
    expect(all.some((line) => /\/60 done/.test(line))).toBe(false);
    expect(all.filter((line) => line !== '').at(-1)).toMatch(/^verdict: critical \(exit 2\)/);
  });

  it.runIf(HAVE_SCRIPT)('audit: the findings tree while it fits the terminal, plain lines when it would not', async () => {
    const configOf = async (file: string, units: number, artifacts: number): Promise<void> => {
      const entries: string[] = [];
      for (let u = 0; u < units; u++) {
        const paths: string[] = [];
        for (let a = 0; a < artifacts; a++) paths.push(`          - path: ${await ws.write(`backups/${file}-${u}-${a}.dump`, 'dump\n')}\n            max_age: 1h\n`);
        entries.push(`      - name: u${u}\n        run: ['true']\n        artifacts:\n${paths.join('')}`);
      }
      await ws.write(`${file}.yml`, `version: 1\nstate_dir: ./.rearguard\nstages:\n  - name: s\n    units:\n${entries.join('')}`);
    };
    await configOf('small', 1, 1);
    await configOf('big', 10, 10);
    const audit = (file: string) =>
      execa('script', ['-qec', `stty rows ${ROWS} cols ${COLUMNS}; ${process.execPath} ${BIN} audit -c ${file}`, '/dev/null'], {
        cwd: ws.dir,
        reject: false,
        env: { CI: '', TERM: 'xterm-256color' },
      });
    const small = stripVTControlCharacters((await audit('small.yml')).stdout);
    expect(small).toMatch(/✔ headroom: /);
    const big = stripVTControlCharacters((await audit('big.yml')).stdout);
    // 100 artifacts, several findings each: the tree would be far taller than 40 rows.
    expect(big).toMatch(/^rearguard audit: run \S+, 1 stage\(s\), 10 unit\(s\)/);
    expect(big.match(/^preflight headroom ok: /gm)).toHaveLength(100);
    expect(big).not.toMatch(/[◼✔]/);
    expect(big).toMatch(/verdict: partial \(exit 1\): audit warnings/);
  });
});

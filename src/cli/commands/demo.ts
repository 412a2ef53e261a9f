// rearguard demo [dir]: copies the bundled demo into a folder of the user's and runs orchestrate there.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../errors.js';
import type { CommonFlags } from '../options.js';
import { runCommand, type CommandIo } from './run.js';

// An installed package may be read-only (a root-owned global install): the demo only ever reads from here.
function findBundledDemo(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/src/cli/commands when built; src/cli/commands under the test runner.
  for (const up of ['../../../..', '../../..']) {
    const candidate = path.resolve(here, up, 'examples/demo');
    if (existsSync(path.join(candidate, 'rearguard.yml'))) return candidate;
  }
  throw new Error(`the bundled demo was not found beside ${here}; reinstall rearguard`);
}

// What a run leaves in the copy; a fresh copy never carries the bundle's own.
const RUN_OUTPUT = new Set(['backups', 'reports', '.rearguard']);

/** A folder that already holds a copy of the demo is run again as it is (its history grows). */
async function prepareFolder(target: string, bundled: string): Promise<'copied' | 'reused'> {
  const entries = await readdir(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  if (entries.length > 0) {
    if (existsSync(path.join(target, 'rearguard.yml')) && existsSync(path.join(target, 'scripts/backup-app.mjs'))) return 'reused';
    throw new UsageError(`${target}: expected an empty folder or an earlier copy of the demo, found ${entries.length} other entr${entries.length === 1 ? 'y' : 'ies'}; name a new folder, or run "rearguard demo" for a fresh temporary one`);
  }
  await mkdir(target, { recursive: true });
  await cp(bundled, target, { recursive: true, filter: (src) => !RUN_OUTPUT.has(path.relative(bundled, src).split(path.sep)[0]!) });
  // The schema comment pointed into the repository; point it at the installed schema instead.
  const config = path.join(target, 'rearguard.yml');
  const schema = path.resolve(bundled, '../../schema/rearguard.schema.json');
  const text = await readFile(config, 'utf8');
  await writeFile(config, text.replace(/^# yaml-language-server: \$schema=.*$/m, `# yaml-language-server: $schema=${schema}`));
  return 'copied';
}

/** Copies the demo (unless `dir` already holds one) and runs orchestrate on it; returns its exit code. */
export async function demoCommand(flags: CommonFlags, dir: string | undefined, io: CommandIo): Promise<number> {
  const bundled = findBundledDemo();
  const target = dir === undefined ? await mkdtemp(path.join(os.tmpdir(), 'rearguard-demo-')) : path.resolve(io.cwd, dir);
  const how = await prepareFolder(target, bundled);
  const config = path.join(target, 'rearguard.yml');
  if (!flags.quiet) {
    io.output.out(how === 'copied' ? `demo: copied the demo into ${target}` : `demo: running the demo already in ${target} again`);
    io.output.out(`demo: rearguard orchestrate -c ${config}; afterwards try verify, restore-test, audit or history with the same -c`);
  }
  return runCommand('orchestrate', { ...flags, config }, io);
}

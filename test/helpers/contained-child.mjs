// A stand-in for a rearguard process that dies mid-unit: runs one program through the built exec layer, prints "started" once it runs, and waits to be killed.
// argv: <runDir> <cgroups: on|off> <logFile> <program> [args...]
// With REARGUARD_TEST_STATE_DIR and REARGUARD_TEST_RUN_ID set, it first takes the run lock of that state folder, as a run does.
import { createExec } from '../../dist/src/exec/index.js';
import { acquireLock } from '../../dist/src/state/lock.js';

const [runDir, cgroups, logFile, ...argv] = process.argv.slice(2);
if (process.env.REARGUARD_TEST_STATE_DIR) {
  await acquireLock({
    stateDir: process.env.REARGUARD_TEST_STATE_DIR,
    holder: { command: 'contained-child', started_at: new Date().toISOString(), run_id: process.env.REARGUARD_TEST_RUN_ID },
    waitMs: 0,
  });
}
const exec = createExec({ hosts: {}, stateDir: runDir, runDir, cgroups: cgroups === 'on' });
process.stdout.write(`containment ${exec.containment().mechanism}\n`);
const result = exec.run({ argv, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 600_000, killGraceMs: 500, logFile, label: 'victim' });
process.stdout.write('started\n');
await result;

// A stand-in for a rearguard process that dies mid-unit: runs one program through the built exec layer, prints "running <pid>" once it started, and waits to be killed.
// argv: <runDir> <cgroups: on|off> <logFile> <program> [args...]
import { createExec } from '../../dist/src/exec/index.js';

const [runDir, cgroups, logFile, ...argv] = process.argv.slice(2);
const exec = createExec({ hosts: {}, stateDir: runDir, runDir, cgroups: cgroups === 'on' });
process.stdout.write(`containment ${exec.containment().mechanism}\n`);
const result = exec.run({ argv, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeoutMs: 600_000, killGraceMs: 500, logFile, label: 'victim' });
process.stdout.write('started\n');
await result;

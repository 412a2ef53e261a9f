// `node bench/lib/spawn-floor-child.mjs <count> <concurrency> [config.yml]`: the floor of the `orchestrate` row. A bare
// Node script that starts `count` `true` processes, `concurrency` at once, each born in a cgroup of its own (stepping in
// for the spawn and back out, as rearguard's launcher does) where a writable cgroup v2 hierarchy is there, each in
// its own process group. No config, logs, records, report or verdict: what is left is what any Node parent pays.
// With a config, the script first reads it with the YAML library rearguard reads a plain config with (js-yaml),
// and starts the `run` of each of its units instead: the floor of a run that must read its config before its first
// start, still without the schema, the plan or anything a run writes.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';

const [count, concurrency] = process.argv.slice(2, 4).map(Number);
const configFile = process.argv[4];
let runs = Array.from({ length: count }, () => ['true']);
if (configFile) {
  const { CORE_SCHEMA, load } = await import('js-yaml');
  runs = load(readFileSync(configFile, 'utf8'), { schema: CORE_SCHEMA }).stages.flatMap((stage) => stage.units.map((unit) => unit.run)).slice(0, count);
  if (runs.length < count) throw new Error(`${configFile} has ${runs.length} units, fewer than ${count}`);
}
const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((line) => line.startsWith('0::'))?.slice(3);
const mount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' - ')).find(([, right]) => right?.startsWith('cgroup2 '))?.[0].split(' ')[4];
let base;
try {
  if (own !== undefined && mount !== undefined) {
    base = `${mount}${own === '/' ? '' : own}/rearguard-floor-${process.pid}`;
    mkdirSync(base);
  }
} catch {
  base = undefined;
}
const home = base && base.slice(0, base.lastIndexOf('/'));
let next = 0;
let done = 0;
await new Promise((resolve) => {
  const start = () => {
    if (next >= count) return;
    next += 1;
    const cgroup = base && `${base}/${next}`;
    if (cgroup) {
      mkdirSync(cgroup);
      writeFileSync(`${cgroup}/cgroup.procs`, `${process.pid}\n`);
    }
    const [file, ...args] = runs[next - 1];
    const child = spawn(file, args, { detached: true, stdio: 'ignore' });
    if (cgroup) writeFileSync(`${home}/cgroup.procs`, `${process.pid}\n`);
    child.once('exit', () => {
      if (cgroup) rmdirSync(cgroup);
      done += 1;
      if (done === count) resolve();
      else start();
    });
  };
  for (let i = 0; i < concurrency; i += 1) start();
});
if (base) rmdirSync(base);
console.log(`${count} processes${base ? ', each in its own cgroup' : ' (no writable cgroup v2 here: process groups only)'}`);

// The code of a run's process launcher, kept as a string and given to `node -` on its stdin.
//
// Why a separate process: a fork copies the page tables of the process that forks, and every page it writes
// afterwards faults once more. rearguard's main process is several times the size of this one, and each
// start there also stepped the whole process (a dozen threads) into the unit's cgroup and back. Here a start
// costs a fraction of that, and none of it blocks rearguard's event loop. Why a string: as for the hash
// worker (hash-worker-source.ts), it runs the same from the sources, the compiled tree and the bundle.
// It is plain JavaScript on purpose: only node: built-ins, nothing the compiler would have to rewrite.
//
// Protocol, one JSON object a line. Requests arrive on fd 3:
//   { id, file, args, cwd, env, out, cgroup?, home? }
// `out` is a FIFO that rearguard holds open for reading: it becomes the child's stdout and stderr. With
// `cgroup` and `home`, the launcher makes the folder `cgroup` and steps into it for the spawn and back into
// `home`, so the child is born inside it (a move afterwards would race with a child that forks at once). The
// requests that arrive together are started together, and answered once the launcher is back home. Answers go
// to stdout:
//   { id, pid, cgroup: 'kept' | 'lost' }              the child runs; 'lost': it is not in the cgroup
//   { id, cgroup, error: { code, message } }          the spawn failed (nothing runs)
//   { id, exit: code | null, signal: name | null, removed?: true }
//                                                     the child exited; removed: its cgroup was empty, and is gone
// The cgroup's folder is made and removed here, not in rearguard: both take the kernel's cgroup lock, which
// the steps between cgroups hold over and over, and a rearguard waiting on it would wait with its event loop.
// At the end of its requests the launcher sends SIGKILL to every child still running and exits. Only
// rearguard holds the other end (its descriptors are close-on-exec), so the end comes when rearguard
// closes it after its last program, or when rearguard dies however it dies: a rearguard killed with
// SIGKILL takes every first process with it, as a parent-death signal would, without a setpriv per
// program. What those processes started is left, as it would be then, for the next run to stop.

/** JavaScript run by the launcher process (CommonJS, read from stdin). */
export const LAUNCHER_SOURCE = String.raw`'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

const running = new Map();

function answer(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function inCgroup(dir) {
  try {
    return fs.readFileSync(dir + '/cgroup.procs', 'utf8').split('\n').includes(String(process.pid));
  } catch {
    return false;
  }
}

function moveInto(dir, pid) {
  try {
    fs.writeFileSync(dir + '/cgroup.procs', pid + '\n');
    return true;
  } catch {
    return false;
  }
}

// The unit cgroup the launcher stands in (undefined: its own, "home"). It steps straight from one unit's
// cgroup into the next and home only after the last request of a batch: one move a program, not two.
let inside;

function stepInto(target) {
  try {
    fs.mkdirSync(target);
  } catch (error) {
    if (error.code !== 'EEXIST') return false;
  }
  if (!moveInto(target, process.pid)) return false;
  inside = target;
  return true;
}

function goHome(home) {
  if (inside === undefined) return true;
  if (home === undefined || !moveInto(home, process.pid) || inCgroup(inside)) return false;
  inside = undefined;
  return true;
}

function spawnOne(request) {
  let out;
  try {
    out = fs.openSync(request.out, 'w');
  } catch (error) {
    return { failure: { code: error.code || 'EIO', message: 'could not open the output pipe: ' + error.message } };
  }
  try {
    return { child: spawn(request.file, request.args, { cwd: request.cwd, env: request.env, detached: true, stdio: ['ignore', out, out] }) };
  } catch (error) {
    return { failure: error };
  } finally {
    fs.closeSync(out);
  }
}

function startBatch(batch) {
  const done = [];
  let home;
  for (const request of batch) {
    home = request.home ?? home;
    const target = request.cgroup;
    let stepped = false;
    // Born in its own cgroup, or (where stepping in is refused, or without a cgroup) at home, never in another's.
    if (target !== undefined && home !== undefined) stepped = stepInto(target);
    if (!stepped && !goHome(home)) {
      done.push({ request, target, stepped, failure: { code: 'EBUSY', message: 'the launcher could not leave the cgroup ' + inside } });
      continue;
    }
    done.push({ request, target, stepped, ...spawnOne(request) });
  }
  goHome(home);
  // Every answer leaves after the step back: rearguard may signal a cgroup as soon as it reads its answer. Where
  // the step back was refused, the cgroup the launcher still stands in is given up (rearguard will not signal it).
  for (const { request, target, stepped, child, failure } of done) {
    let kept = target !== undefined && target !== inside;
    if (!child) {
      answer({ id: request.id, cgroup: kept ? 'kept' : 'lost', error: { code: failure.code || 'EINVAL', message: failure.message } });
      continue;
    }
    if (child.pid === undefined) {
      child.once('error', (error) => answer({ id: request.id, cgroup: kept ? 'kept' : 'lost', error: { code: error.code || 'EIO', message: error.message } }));
      continue;
    }
    // Where stepping in was refused, a move right after the spawn is the next best thing.
    if (kept && !stepped && !moveInto(target, child.pid)) kept = false;
    running.set(request.id, child);
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      running.delete(request.id);
      // rmdir takes only an empty cgroup: where the program left processes behind, rearguard finds them there.
      let removed = false;
      if (kept) {
        try {
          fs.rmdirSync(target);
          removed = true;
        } catch {
          // Not empty (or refused): rearguard stops what is left and removes it.
        }
      }
      answer({ id: request.id, exit: code, signal, ...(removed && { removed }) });
    });
    answer({ id: request.id, pid: child.pid, cgroup: kept ? 'kept' : 'lost' });
  }
}

const requests = new net.Socket({ fd: 3, readable: true, writable: false });
let pending = '';
requests.setEncoding('utf8');
requests.on('data', (text) => {
  pending += text;
  const lines = pending.split('\n');
  pending = lines.pop();
  const batch = lines.filter(Boolean).map((line) => JSON.parse(line));
  if (batch.length > 0) startBatch(batch);
});
// The end of the requests: rearguard is done or gone. A child not yet reaped cannot have given its pid away.
function end() {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
}
requests.on('end', end);
requests.on('error', end);
answer({ ready: process.pid });
`;

#!/usr/bin/env node
// Template: the application backup most teams write by hand, done so that rearguard can prove it.
//
//   <out>/<name>-<timestamp>.tar.gz          pg_dump -Fc of the database + the application folder,
//                                            with MANIFEST.json and SHA256SUMS inside
//   <out>/<name>-<timestamp>.tar.gz.sha256   sha256 sidecar (sha256sum format)
//
// Usage: node app-backup.mjs --app-dir /srv/app --out /var/backups/app [--name app] [--keep 14]
// Needs zx (`npm install zx`), pg_dump and pg_restore, tar and gzip.
//
// The database connection comes from libpq's environment only (PGHOST, PGPORT, PGUSER, PGDATABASE,
// and PGPASSFILE for the password), so no secret ever appears on a command line or in `ps`.
//
// Every file is written under a temporary dot-name in <out>, fsynced, and renamed only when complete;
// any failed step (including a dump that `pg_restore --list` cannot read) removes the temporary files
// and exits non-zero, so a final-named file is always a complete one. Old archives are pruned only
// after the new one is in place, keeping the newest --keep.
//
// With rearguard:
//   run: [node, /usr/local/lib/backup/app-backup.mjs, --app-dir, /srv/app, --out, /var/backups/app]
//   env: { PGHOST: db.internal, PGUSER: backup, PGDATABASE: app, PGPASSFILE: /etc/backup/pgpass }
//   artifacts:
//     - path: /var/backups/app/app-*.tar.gz
//       checksum: sidecar
//       archive: { expect: [database.dump, MANIFEST.json, SHA256SUMS] }
//       restore: { sha256sums: SHA256SUMS, json: "**/*.json", command: [pg_restore, --list, database.dump] }
import { createHash } from 'node:crypto';
import { $, argv, fs, path } from 'zx';

$.verbose = false;
const name = String(argv.name ?? 'app');
const keep = Number(argv.keep ?? 14);
const appDir = argv['app-dir'];
const outDir = argv.out;
if (typeof appDir !== 'string' || typeof outDir !== 'string' || !/^[\w.-]+$/.test(name) || !Number.isSafeInteger(keep) || keep < 1) {
  console.error('usage: app-backup.mjs --app-dir <dir> --out <dir> [--name <name>] [--keep <n ≥ 1>]');
  process.exit(64);
}
if (!process.env.PGDATABASE) {
  console.error('app-backup: expected PGDATABASE (and PGHOST, PGUSER, PGPASSFILE as needed) in the environment, found none set');
  process.exit(64);
}

const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
const finalArchive = path.join(outDir, `${name}-${stamp}.tar.gz`);
const tempArchive = path.join(outDir, `.${name}-${stamp}.tar.gz.tmp-${process.pid}`);
const tempSidecar = `${tempArchive}.sha256`;
const staging = path.join(outDir, `.${name}-${stamp}.staging-${process.pid}`);

// Runs one named step; its failure names the step, so the log says where the backup broke.
async function step(label, work) {
  try {
    return await work();
  } catch (error) {
    const detail = error.stderr?.trim() || error.message;
    throw new Error(`${label} failed: ${detail}`, { cause: error });
  }
}

async function fsyncPath(file) {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function sha256(file) {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}

async function listFiles(dir) {
  const entries = await fs.promises.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

async function backup() {
  await fs.mkdirp(outDir);
  await fs.mkdir(staging, { mode: 0o700 });
  const dump = path.join(staging, 'database.dump');

  await step('pg_dump', () => $`pg_dump --format=custom --no-password --file=${dump}`);
  await step('pg_restore --list (the dump must be readable)', () => $`pg_restore --list ${dump}`);
  await step('copying the application folder', () => fs.copy(appDir, path.join(staging, 'app'), { dereference: false }));

  const files = await listFiles(staging);
  const sums = [];
  for (const file of files) sums.push(`${await sha256(path.join(staging, file))}  ${file}`);
  await step('writing SHA256SUMS', () => fs.writeFile(path.join(staging, 'SHA256SUMS'), `${sums.join('\n')}\n`));
  const pgDumpVersion = (await $`pg_dump --version`).stdout.trim();
  const manifest = { name, created_at: new Date().toISOString(), database: process.env.PGDATABASE, pg_dump: pgDumpVersion, app_dir: path.resolve(appDir), files };
  await step('writing MANIFEST.json', () => fs.writeFile(path.join(staging, 'MANIFEST.json'), `${JSON.stringify(manifest, null, 2)}\n`));

  await step('archiving', () => $`tar -czf ${tempArchive} -C ${staging} database.dump app SHA256SUMS MANIFEST.json`);
  await step('reading the archive back', () => $`tar -tzf ${tempArchive}`);
  await step('syncing the archive', () => fsyncPath(tempArchive));
  const digest = await sha256(tempArchive);
  await step('writing the sidecar', async () => {
    await fs.writeFile(tempSidecar, `${digest}  ${path.basename(finalArchive)}\n`);
    await fsyncPath(tempSidecar);
  });
  // The archive takes its final name first: a sidecar never names a file that is not there.
  await fs.rename(tempArchive, finalArchive);
  try {
    await fs.rename(tempSidecar, `${finalArchive}.sha256`);
  } catch (error) {
    await fs.rm(finalArchive, { force: true });
    throw new Error(`renaming the sidecar failed: ${error.message}`, { cause: error });
  }
  await fsyncPath(outDir);
  console.log(`wrote ${finalArchive} (${(await fs.stat(finalArchive)).size} bytes, ${files.length + 2} files) and its .sha256 sidecar`);
}

async function prune() {
  const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}-\\d{8}T\\d{9}Z\\.tar\\.gz$`);
  const archives = (await fs.readdir(outDir)).filter((file) => pattern.test(file)).sort();
  for (const old of archives.slice(0, Math.max(0, archives.length - keep))) {
    await fs.rm(path.join(outDir, `${old}.sha256`), { force: true });
    await fs.rm(path.join(outDir, old), { force: true });
    console.log(`removed ${old} (keeping the newest ${keep})`);
  }
}

async function removeTemporaries() {
  await fs.rm(staging, { recursive: true, force: true });
  await fs.rm(tempArchive, { force: true });
  await fs.rm(tempSidecar, { force: true });
}

// A timeout (rearguard sends SIGTERM to the process group) must not leave the temporaries behind either.
for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  process.once(signal, () => {
    console.error(`app-backup: stopped by ${signal}; removing temporary files`);
    removeTemporaries().finally(() => process.exit(code));
  });
}

try {
  await backup();
  await prune();
} catch (error) {
  console.error(`app-backup: ${error.message}`);
  process.exitCode = 1;
} finally {
  await removeTemporaries();
}

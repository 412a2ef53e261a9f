// StrictModes for what rearguard runs as root: a file that someone other than root and its owner can change is refused; a secret others can read is a warning.
import { readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

/** What a file is to rearguard; secrets are also checked for being readable by others. */
export type TrustedFileKind = 'config' | 'env_file' | 'secret' | 'program';

/** One problem with a file or a folder above it. */
export interface TrustFinding {
  level: 'error' | 'warning';
  /** The file as named in the config. */
  file: string;
  /** The file or folder at fault (the file itself, a parent folder, or the resolved target of a link). */
  at: string;
  owner: string;
  /** Octal permission bits, e.g. "0664". */
  mode: string;
  message: string;
}

/** Options of a trust check. */
export interface TrustOptions {
  /** Check as root does (default: when this process runs as root). Non-root runs are only checked when asked. */
  asRoot?: boolean;
  /** uid → name, for messages (default: /etc/passwd). */
  userName?: (uid: number) => string | undefined;
}

const KIND_TEXT: Record<TrustedFileKind, string> = {
  config: 'config file',
  env_file: 'env_file',
  secret: 'secret file',
  program: 'program',
};

/**
 * Checks `file` the way OpenSSH's StrictModes checks authorized_keys: as root, it is refused (an
 * error finding) when a user other than root and the file's owner can write it, directly (group
 * or other write bits, unless the group is root's) or through a folder above it (owned by another
 * user, or writable by group or others without the sticky bit that stops them from replacing
 * entries they do not own). A secret readable by others is a warning. A missing file gives no
 * finding: the caller reports that in its own words.
 */
export function checkFileTrust(file: string, kind: TrustedFileKind, options: TrustOptions = {}): TrustFinding[] {
  const asRoot = options.asRoot ?? process.getuid?.() === 0;
  if (!asRoot) return [];
  const nameOf = options.userName ?? passwdName;
  let real: string;
  let info: Stats;
  try {
    real = realpathSync(file);
    info = statSync(real);
  } catch {
    return [];
  }
  const findings: TrustFinding[] = [];
  const describe = (at: string, stats: Stats): Pick<TrustFinding, 'owner' | 'mode'> => ({ owner: ownerText(stats.uid, nameOf), mode: modeText(stats.mode) });
  const what = `${KIND_TEXT[kind]} ${file}${real !== path.resolve(file) ? ` (-> ${real})` : ''}`;
  const fileOwner = info.uid;

  const writers = writableByOthers(info, false);
  if (writers) {
    findings.push({
      level: 'error',
      file,
      at: real,
      ...describe(real, info),
      message: `refusing ${what}: it is writable by ${writers} (owner ${ownerText(info.uid, nameOf)}, mode ${modeText(info.mode)}); expected only root and its owner to be able to change what rearguard runs as root: chmod go-w ${real}`,
    });
  }
  for (let dir = path.dirname(real); ; dir = path.dirname(dir)) {
    let stats: Stats;
    try {
      stats = statSync(dir);
    } catch {
      break;
    }
    const foreignOwner = stats.uid !== 0 && stats.uid !== fileOwner;
    const dirWriters = writableByOthers(stats, true);
    if (foreignOwner || dirWriters) {
      const who = foreignOwner ? `its owner ${ownerText(stats.uid, nameOf)}` : dirWriters;
      findings.push({
        level: 'error',
        file,
        at: dir,
        ...describe(dir, stats),
        message: `refusing ${what}: the folder ${dir} is writable by ${who} (owner ${ownerText(stats.uid, nameOf)}, mode ${modeText(stats.mode)}), who could replace the file; expected folders owned by root or the file's owner and not writable by group or others: ${foreignOwner ? `chown root ${dir}` : `chmod go-w ${dir}`}`,
      });
    }
    if (dir === path.dirname(dir)) break;
  }
  if (kind === 'secret' || kind === 'env_file') {
    const readers = (info.mode & 0o004) !== 0 ? 'every user' : (info.mode & 0o040) !== 0 && info.gid !== 0 ? `group ${info.gid}` : undefined;
    if (readers) {
      findings.push({
        level: 'warning',
        file,
        at: real,
        ...describe(real, info),
        message: `${what} is readable by ${readers} (owner ${ownerText(info.uid, nameOf)}, mode ${modeText(info.mode)}); expected a secret to be readable by its owner only: chmod go-r ${real}`,
      });
    }
  }
  return findings;
}

/** Who besides the owner and root can write: "every user", "group 1000", or undefined. */
function writableByOthers(stats: Stats, isFolder: boolean): string | undefined {
  // In a sticky folder (like /tmp) others may add entries but not replace one they do not own.
  if (isFolder && (stats.mode & 0o1000) !== 0) return undefined;
  if ((stats.mode & 0o002) !== 0) return 'every user';
  if ((stats.mode & 0o020) !== 0 && stats.gid !== 0) return `group ${stats.gid}`;
  return undefined;
}

function modeText(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function ownerText(uid: number, nameOf: (uid: number) => string | undefined): string {
  const name = nameOf(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

let passwd: Map<number, string> | undefined;

function passwdName(uid: number): string | undefined {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id && /^\d+$/.test(id)) passwd.set(Number(id), name);
      }
    } catch {
      // Names are for messages only.
    }
  }
  return passwd.get(uid);
}

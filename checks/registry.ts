// The explicit list of checks, in the order they run on each artifact.
import type { ArtifactCheck, PreflightCheck } from '../src/contract/check.js';
import { archiveCheck } from './archive.js';
import { checksumCheck } from './checksum.js';
import { commandCheck } from './command.js';
import { existsCheck } from './exists.js';
import { freshCheck } from './fresh.js';
import { maxAgeCheck } from './max-age.js';
import { offsiteCheck } from './offsite.js';
import { diskCheck } from './preflight/disk.js';
import { preflightCommandCheck } from './preflight/command.js';
import { idleCheck } from './preflight/idle.js';
import { reachableCheck } from './preflight/reachable.js';
import { repositoryCheck } from './repository.js';
import { restoreCheck } from './restore.js';
import { sizeCheck } from './size.js';
import { sqliteCheck } from './sqlite.js';

/**
 * Artifact checks in the order they run within their phase: exists → fresh / max_age → size →
 * repository → checksum → sqlite → archive → restore → command, then (after actions ship a copy) offsite.
 */
export const artifactChecks: ReadonlyArray<ArtifactCheck<unknown>> = [
  existsCheck,
  freshCheck,
  maxAgeCheck,
  sizeCheck,
  repositoryCheck,
  checksumCheck,
  sqliteCheck,
  archiveCheck,
  restoreCheck,
  commandCheck,
  offsiteCheck,
];

/** Pre-flight checks by kind. */
export const preflightChecks: { readonly [K in string]?: PreflightCheck } = {
  disk: diskCheck,
  command: preflightCommandCheck,
  idle: idleCheck,
  reachable: reachableCheck,
};

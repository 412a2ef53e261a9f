// The explicit list of artifact sources, by the config key that selects them.
import type { ArtifactSource } from '../src/contract/source.js';
import { borgSource } from './borg.js';
import { fileSource } from './file.js';
import { pgbackrestSource } from './pgbackrest.js';
import { resticSource } from './restic.js';
import { treeSource } from './tree.js';
import { zfsSource } from './zfs.js';

/** Sources by kind; a new source is one file here plus its registration. */
export const artifactSources: { readonly [kind: string]: ArtifactSource<unknown> | undefined } = {
  path: fileSource,
  restic: resticSource,
  borg: borgSource,
  tree: treeSource,
  pgbackrest: pgbackrestSource,
  zfs: zfsSource,
};

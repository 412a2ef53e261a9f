// The explicit list of artifact sources, by the config key that selects them.
import type { ArtifactSource } from '../src/contract/source.js';
import { fileSource } from './file.js';

/** Sources by kind; a new source is one file here plus its registration. */
export const artifactSources: { readonly [kind: string]: ArtifactSource<any> | undefined } = {
  path: fileSource,
};

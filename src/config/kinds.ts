// What the config learns from the registries: the kinds of artifact and the keys checks and actions own.
import type { KeyedFragment } from '../contract/config-fragment.js';
import type { ArtifactSource } from '../contract/source.js';

/** Handed to the config layer by the program that composes the registries (src/cli/artifact-kinds.ts). */
export interface ArtifactKinds {
  /** Sources by kind; the kind is the artifact's config key. */
  sources: { readonly [kind: string]: ArtifactSource<unknown> | undefined };
  /** The artifact keys of checks and actions, in the order their owners run. */
  keys: ReadonlyArray<KeyedFragment>;
}

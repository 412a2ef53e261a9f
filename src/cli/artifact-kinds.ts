// Composes the registries into what the config layer needs: every source kind and every key a check or action owns.
import { artifactActions } from '../../actions/registry.js';
import { artifactChecks } from '../../checks/registry.js';
import { artifactSources } from '../../sources/registry.js';
import type { ArtifactKinds } from '../config/kinds.js';

/** The artifact kinds and keys of this build, in the order their owners run. */
export const ARTIFACT_KINDS: ArtifactKinds = {
  sources: artifactSources,
  keys: [...artifactChecks, ...artifactActions].flatMap((step) => (step.config ? [step.config] : [])),
};

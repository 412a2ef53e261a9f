// The explicit list of artifact actions: side-effecting steps of the `ship` phase.
import type { ArtifactAction } from '../src/contract/action.js';
import { uploadAction } from './upload.js';

/** Actions in the order they run, after an artifact's local checks and before its offsite checks. */
export const artifactActions: ReadonlyArray<ArtifactAction<unknown>> = [uploadAction];

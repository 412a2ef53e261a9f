// The artifact action contract: side-effecting steps (upload) that run between local and offsite checks.
import type { KeyedFragment } from './config-fragment.js';
import type { CommandName, ResolvedArtifact } from '../config/types.js';
import type { ArtifactTarget, CheckContext, CheckOutcome, Need, Selection } from './check.js';

/**
 * A step that changes something outside rearguard (ships a copy): it runs in the `ship` phase, after
 * every local check passed and before offsite checks, and never in read-only commands.
 */
export interface ArtifactAction<Options = unknown, Own = unknown> {
  id: string;
  phase: 'ship';
  needs: readonly Need[];
  effect: 'side-effect';
  stops: 'at-error';
  /** The artifact config key this action owns. */
  config: KeyedFragment<Own>;
  select(own: Own | undefined, artifact: ResolvedArtifact, command: CommandName): Selection<Options>;
  describe(options: Options): string;
  run(ctx: CheckContext<Options>, target: ArtifactTarget): Promise<CheckOutcome>;
}

// The pgBackRest source: the newest backup set of a stanza, from `pgbackrest info --output=json`.
import { lastLine } from '../src/util/tail.js';
import * as z from '../src/contract/zod.js';
import { textSchema } from '../src/contract/schema-parts.js';
import { defineFragment } from '../src/contract/config-fragment.js';
import type { ArtifactSource } from '../src/contract/source.js';
import { describeFailure, succeeded } from '../src/exec/types.js';
import { describeStanza, LIST_TIMEOUT_MS, pgbackrestArgv, runPgBackRest, type PgBackRestOptions } from './pgbackrest/command.js';
import { chooseNewestSet, extractInfoJson } from './pgbackrest/info.js';
import type { PgRestoreSettings } from './pgbackrest/restore.js';

/** A pgbackrest artifact's options: where the stanza is, and how its restore test runs. */
export type PgBackRestSourceOptions = PgBackRestOptions & PgRestoreSettings;

const schema = z
  .strictObject({
    stanza: textSchema.check(z.describe('The pgBackRest stanza; its newest backup set is checked.')),
    config: z.optional(textSchema).check(z.describe("pgBackRest's config file (default: pgBackRest's own default).")),
    repo: z.optional(z.int().check(z.gte(1), z.lte(256))).check(z.describe('Which repository (repoN) when the stanza has several.')),
    type: z.optional(z.enum(['full', 'diff', 'incr'])).check(z.describe('The newest set must be of this type.')),
    host: z.optional(textSchema).check(z.describe('Run pgbackrest on this host from `hosts`.')),
    query: z.optional(textSchema).check(z.describe('restore: SQL run on the restored server (default: list the databases).')),
    sql: z.optional(z.array(textSchema)).check(z.describe('restore: more SQL statements that must succeed.')),
    database_user: z.optional(textSchema).check(z.describe('restore: the role to connect as (default postgres).')),
    run_as: z.optional(textSchema).check(z.describe('restore: the OS user the restore and the private server run as when rearguard is root (default postgres).')),
    pg_bin: z.optional(textSchema).check(z.describe("restore: folder of PostgreSQL's programs (default: Debian's folder for the backup's version, else PATH).")),
  })
  .check(z.describe('A pgBackRest stanza: its newest backup set.'));

/** `pgbackrest:` artifacts: a stanza's newest backup set; one in error or of the wrong type is refused. */
export const pgbackrestSource: ArtifactSource<PgBackRestSourceOptions> = {
  kind: 'pgbackrest',
  config: defineFragment(schema, (raw, ctx): PgBackRestSourceOptions => {
    const { config, pg_bin, ...rest } = raw;
    // A path on a host is that host's path; only local paths are taken from the config's folder.
    const local = (p: string): string => (raw.host === undefined ? ctx.resolvePath(p) : p);
    return { ...rest, ...(config !== undefined && { config: local(config) }), ...(pg_bin !== undefined && { pg_bin: local(pg_bin) }) };
  }),
  provides: ['restore', 'integrity'],
  name: (options) => describeStanza(options),
  async locate(ctx) {
    const { options } = ctx;
    const result = await runPgBackRest(ctx, options, pgbackrestArgv(options, 'info', ['--output=json']), { timeoutMs: ctx.timeoutMs ?? LIST_TIMEOUT_MS });
    if (!succeeded(result)) {
      return {
        found: false,
        // A program or host that could not be reached says so itself; pgbackrest's own failures get its last line and a hint.
        message: `pgbackrest info for ${describeStanza(options)} failed (${describeFailure(result, 'its time limit')})${
          result.startError === undefined ? `: ${lastLine(result.output)}; check that pgbackrest is installed and its config file and repository are readable` : ''
        }`,
      };
    }
    let doc: unknown;
    try {
      doc = extractInfoJson(result.output);
    } catch (error) {
      return { found: false, message: `pgbackrest info for ${describeStanza(options)} printed no usable JSON (${(error as Error).message}): ${lastLine(result.output)}` };
    }
    const choice = chooseNewestSet(doc, options.stanza, options.type);
    if (!choice.ok) return { found: false, message: choice.message };
    const { set } = choice;
    return {
      found: true,
      backup: { id: set.label, location: `${describeStanza(options)}, ${set.type} backup set ${set.label}`, completedAtMs: set.stopMs, bytes: set.databaseBytes },
    };
  },
  // The restore (a private PostgreSQL server) and the repository check load when a run first uses them.
  restore: async (ctx, backup, dir, include) => (await import('./pgbackrest/restore.js')).restoreAndQuery(ctx, backup, dir, include),
  verify: async (ctx, backup, depth) => (await import('./pgbackrest/verify.js')).verifyRepository(ctx, backup, depth),
};

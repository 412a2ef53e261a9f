// The commander program: commands, the flags each one honours, help with examples. Handlers return exit codes; nothing here exits.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CommandName } from '../config/types.js';
import type { CommonFlags } from './options.js';
import type { HistoryFlags } from './commands/history.js';
import type { CommandIo } from './commands/run.js';
import type { CompletionSpec } from './commands/completion.js';

// Command modules load when their command runs, so --help, --version and config schema start fast.
const commands = {
  run: () => import('./commands/run.js'),
  audit: () => import('./commands/audit.js'),
  history: () => import('./commands/history.js'),
  config: () => import('./commands/config.js'),
  demo: () => import('./commands/demo.js'),
  completion: () => import('./commands/completion.js'),
};

// dist/src/cli/program.js when built, src/cli/program.ts under the test runner.
const VERSION = (() => {
  for (const up of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rearguard' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
})();
const DOCS = 'Docs: man rearguard, README.md and docs/ in the package (`npm root -g`/rearguard), or the repository.';

type Handler = (flags: CommonFlags, args: string[], io: CommandIo) => Promise<number>;
type Flag = 'config' | 'only' | 'skip' | 'json' | 'junit' | 'color' | 'verbose' | 'quiet' | 'waitLock' | 'dryRun';

// Each flag once; a command lists the ones it honours, so its --help never offers one it ignores.
const FLAGS: Record<Flag, () => Option> = {
  config: () => new Option('-c, --config <file>', 'config file (default ./rearguard.yml, then $REARGUARD_CONFIG)'),
  only: () => new Option('--only <unit...>', 'only these units or stages (names that match nothing are an error)'),
  skip: () => new Option('--skip <unit...>', 'leave out these units or stages'),
  json: () => new Option('--json <file>', 'write the JSON report here ("-": stdout, the rest goes to stderr)'),
  junit: () => new Option('--junit <file>', 'write JUnit XML here ("-": stdout, the rest goes to stderr)'),
  color: () => new Option('--no-color', 'no colour (NO_COLOR of any value too; FORCE_COLOR=1 forces it)'),
  verbose: () => new Option('--verbose', 'stream unit output and check details'),
  quiet: () => new Option('--quiet', 'print only warnings and the verdict line'),
  waitLock: () => new Option('--wait-lock <duration>', 'wait this long for another run to finish instead of exiting 2'),
  dryRun: () => new Option('--dry-run', 'show the plan; run nothing'),
};
const RUN_FLAGS: Flag[] = ['config', 'only', 'skip', 'json', 'junit', 'color', 'verbose', 'quiet', 'waitLock'];

const EXAMPLES: Record<string, string[]> = {
  orchestrate: [
    'rearguard orchestrate -c /etc/rearguard/rearguard.yml      # the deploy gate: exit 0 go, 1 warnings, 2 stop',
    'rearguard orchestrate --only app-db --junit reports/rg.xml  # one unit, JUnit for the CI',
    'rearguard orchestrate --json - --quiet | jq .verdict        # the report on stdout, the rest on stderr',
  ],
  plan: ['rearguard plan                       # stages, units, timeouts and checks; runs nothing', 'rearguard plan --json - | jq .stages  # the plan as JSON'],
  verify: ['rearguard verify -c /etc/rearguard/rearguard.yml   # the CI gate for backups made by timers', 'rearguard verify --only postgres --json report.json'],
  'restore-test': ['rearguard restore-test                 # the weekly restore proof', 'rearguard restore-test --junit - > restore.xml'],
  audit: ['rearguard audit                   # stale artifacts, size trends, last runs, risky config', 'rearguard audit --json audit.json  # read-only: nothing else is written'],
  history: ['rearguard history            # every artifact: sizes, trend, baseline', 'rearguard history app-db --limit 50', 'rearguard history --json - | jq .artifacts[0].entries'],
  validate: ['rearguard config validate -c rearguard.yml   # every problem with file and line; exit 2 if any', 'REARGUARD_CONFIG=/etc/rearguard/rearguard.yml rearguard config validate'],
  schema: ['rearguard config schema > rearguard.schema.json   # for "# yaml-language-server: $schema=..."', 'rearguard config schema | jq .properties.stages'],
  demo: ['rearguard demo                 # copy the demo into a fresh temp folder and run it there', 'rearguard demo ~/rearguard-demo  # ... into this folder; run it again to grow the history'],
  completion: [
    'rearguard completion bash > /etc/bash_completion.d/rearguard',
    'rearguard completion zsh > "${fpath[1]}/_rearguard"',
    'rearguard completion fish > ~/.config/fish/completions/rearguard.fish',
  ],
};

function addExamples(command: Command, key: string): Command {
  const examples = EXAMPLES[key] ?? [];
  return command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n\n${DOCS}`);
}

function addFlags(command: Command, flags: Array<Flag | Option>): Command {
  for (const flag of flags) command.addOption(typeof flag === 'string' ? FLAGS[flag]() : flag);
  return command;
}

// A report sent to stdout owns it: the human output (plan, live lines, summary, verdict) moves to stderr.
function ioFor(io: CommandIo, flags: CommonFlags): CommandIo {
  if (flags.json !== '-' && flags.junit !== '-') return io;
  const toStderr = (line: string): void => io.output.err(line);
  return { ...io, output: { out: toStderr, err: toStderr } };
}

/** Builds the program; `setExit` receives each handler's exit code. */
export function buildProgram(io: CommandIo, setExit: (code: number) => void): Command {
  const program = new Command('rearguard')
    .description('Runs every backup a deploy might need, proves each complete, intact and restorable, and answers 0 go / 1 go with warnings / 2 do not deploy.')
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.output.out(s.replace(/\n$/, '')), writeErr: (s) => io.output.err(s.replace(/\n$/, '')) })
    .addHelpText('after', `\nExamples:\n  $ rearguard demo\n  $ rearguard orchestrate -c /etc/rearguard/rearguard.yml\n  $ rearguard verify --json - | jq .verdict\n\n${DOCS}`);

  const register = (parent: Command, name: string, description: string, flags: Array<Flag | Option>, handler: Handler): Command => {
    const command = addExamples(addFlags(parent.command(name).description(description), flags), name.split(' ')[0]!);
    command.action(async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const opts = cmd.opts<CommonFlags>();
      setExit(await handler(opts, cmd.args, ioFor(io, opts)));
    });
    return command;
  };
  const run = (name: CommandName): Handler => async (flags, _args, cmdIo) => (await commands.run()).runCommand(name, flags, cmdIo);

  register(program, 'orchestrate', 'pre-flight, every backup unit, every verification; exit 0/1/2', [...RUN_FLAGS, 'dryRun'], run('orchestrate'));
  const planJson = new Option('--json <file>', 'write the plan as JSON here ("-": stdout, the text plan goes to stderr)');
  register(program, 'plan', 'what orchestrate would do; runs nothing', ['config', 'only', 'skip', planJson], run('plan'));
  register(program, 'verify', 'check the newest artifacts in place (max_age instead of fresh); runs no unit', RUN_FLAGS, run('verify'));
  register(program, 'restore-test', 'verify plus every restore rule: restore into scratch space and check', RUN_FLAGS, run('restore-test'));
  const audit = register(program, 'audit', 'read-only: staleness, size trends, last runs, headroom, risky config; runs nothing; exit 0/1/2',
    ['config', 'only', 'skip', 'json', 'junit', 'color', 'quiet'], async (flags, _args, cmdIo) => (await commands.audit()).auditCommand(flags, cmdIo));
  audit.addOption(new Option('--verbose', 'print the notes behind each finding'));
  register(program, 'history [unit]', 'size history of each artifact: sparkline, allowed band and the baseline the size check uses', ['config', 'color'],
    async (flags, args, cmdIo) => (await commands.history()).historyCommand(flags as HistoryFlags, args, cmdIo))
    .option('--json [file]', 'the data as JSON: to stdout, or to this file')
    .option('--limit <n>', 'entries listed per artifact (default 20)');

  const config = program.command('config').description('validate the config or print its JSON Schema');
  register(config, 'validate', 'validate the config file; exit 2 with every problem found', ['config'], async (flags, _args, cmdIo) =>
    (await commands.config()).validateConfigCommand(flags, cmdIo),
  );
  register(config, 'schema', 'print the JSON Schema of rearguard.yml', [], async (_flags, _args, cmdIo) => (await commands.config()).printSchemaCommand(cmdIo));

  register(program, 'demo [dir]', 'copy the bundled demo into dir (default: a fresh temp folder) and run orchestrate there', ['color', 'verbose', 'quiet'],
    async (flags, args, cmdIo) => (await commands.demo()).demoCommand(flags, args[0], cmdIo));
  register(program, 'completion <shell>', 'print a completion script for bash, zsh or fish', [], async (_flags, args, cmdIo) =>
    (await commands.completion()).completionCommand(args[0]!, describeCommands(program), cmdIo),
  );
  // Called by the completion scripts for --only/--skip: the unit and stage names of the config, nothing on errors.
  program
    .command('__names', { hidden: true })
    .addOption(FLAGS.config())
    .action(async (flags: CommonFlags) => setExit(await (await commands.completion()).listNamesCommand(flags, io)));
  return program;
}

/** The commands and their flags, as the completion scripts need them. */
export function describeCommands(program: Command): CompletionSpec {
  const visible = (list: readonly Command[]): Command[] => list.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  const flagsOf = (c: Command): string[] => c.options.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
  return visible(program.commands).flatMap((c) => {
    const subs = visible(c.commands);
    if (subs.length === 0) return [{ name: c.name(), description: c.description(), flags: flagsOf(c) }];
    return [{ name: c.name(), description: c.description(), flags: [], subcommands: subs.map((s) => ({ name: s.name(), description: s.description(), flags: flagsOf(s) })) }];
  });
}

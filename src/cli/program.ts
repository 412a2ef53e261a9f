// The commander program: commands, flags and help. Handlers return exit codes; nothing here exits.
import { Command, Option } from 'commander';
import type { CommandName } from '../config/types.js';
import type { CommonFlags } from './options.js';
import type { HistoryFlags } from './commands/history.js';
import type { CommandIo } from './commands/run.js';

// Command modules load when their command runs, so --help, --version and config schema start fast.
const commands = {
  run: () => import('./commands/run.js'),
  audit: () => import('./commands/audit.js'),
  history: () => import('./commands/history.js'),
  config: () => import('./commands/config.js'),
};

type Handler = (flags: CommonFlags, args: string[]) => Promise<number>;

function addCommonOptions(command: Command, runs: boolean): Command {
  command.option('-c, --config <file>', 'config file (default ./rearguard.yml, then $REARGUARD_CONFIG)');
  if (!runs) return command;
  return command
    .option('--only <unit...>', 'run only these units or stages')
    .option('--skip <unit...>', 'leave out these units or stages')
    .option('--json <file>', 'write the JSON report here')
    .option('--junit <file>', 'write JUnit XML here')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)')
    .option('--verbose', 'stream unit output and check details')
    .option('--quiet', 'print only warnings and the verdict line')
    .option('--wait-lock <duration>', 'wait this long for another run to finish instead of exiting 2');
}

/** Builds the program; `setExit` receives each handler's exit code. */
export function buildProgram(io: CommandIo, setExit: (code: number) => void): Command {
  const program = new Command('rearguard')
    .description('Runs every backup a deploy might need, proves each complete, intact and restorable, and answers 0 go / 1 go with warnings / 2 do not deploy.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.output.out(s.replace(/\n$/, '')), writeErr: (s) => io.output.err(s.replace(/\n$/, '')) });

  const register = (name: string, description: string, runs: boolean, handler: Handler, configure?: (c: Command) => void): void => {
    const command = addCommonOptions(program.command(name).description(description), runs);
    configure?.(command);
    command.action(async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      setExit(await handler(cmd.opts<CommonFlags>(), cmd.args));
    });
  };
  const run = (name: CommandName): Handler => async (flags) => (await commands.run()).runCommand(name, flags, io);

  register('orchestrate', 'pre-flight, every backup unit, every verification; exit 0/1/2', true, run('orchestrate'), (c) =>
    c.addOption(new Option('--dry-run', 'show the plan; run nothing')),
  );
  register('plan', 'what orchestrate would do; runs nothing', true, run('plan'));
  register('verify', 'check the newest artifacts in place (max_age instead of fresh); runs no unit', true, run('verify'));
  register('restore-test', 'verify plus every restore rule: restore into scratch space and check', true, run('restore-test'));
  register('audit', 'read-only: staleness, size trends, last runs, headroom, risky config; runs nothing; exit 0/1/2', true, (flags) =>
    commands.audit().then((m) => m.auditCommand(flags, io)),
  );
  register('history [unit]', 'size history of each artifact and the baseline the size check uses', false, (flags, args) =>
    commands.history().then((m) => m.historyCommand(flags as HistoryFlags, args, io)),
  (c) => c.option('--json [file]', 'JSON to stdout, or to this file').option('--limit <n>', 'entries shown per artifact (default 20)'),
  );

  const config = program.command('config').description('validate the config or print its JSON Schema');
  addCommonOptions(config.command('validate').description('validate the config file; exit 2 with every problem found'), false).action(
    async (flags: CommonFlags) => setExit(await (await commands.config()).validateConfigCommand(flags, io)),
  );
  config.command('schema').description('print the JSON Schema of rearguard.yml').action(async () => setExit((await commands.config()).printSchemaCommand(io)));
  return program;
}

// rearguard completion bash|zsh|fish: completion scripts built from the program's own commands and flags.
import { UsageError } from '../../errors.js';
import type { CommonFlags } from '../options.js';
import { loadForCommand, type CommandIo } from './run.js';

/** A command (or subcommand) as the completion scripts see it. */
export interface CompletionCommand {
  name: string;
  description: string;
  flags: string[];
  subcommands?: CompletionCommand[];
}

/** Every visible command of the program. */
export type CompletionSpec = CompletionCommand[];

// Flags that take a file, and flags that take unit or stage names from the config.
const FILE_FLAGS = ['-c', '--config', '--json', '--junit'];
const NAME_FLAGS = ['--only', '--skip'];

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

function flagsByCommand(spec: CompletionSpec): Array<[string, string[]]> {
  return spec.flatMap((c) => (c.subcommands ? c.subcommands.map((s): [string, string[]] => [`${c.name} ${s.name}`, s.flags]) : [[c.name, c.flags]]));
}

/** The bash script: commands, each command's flags, files after file flags, config names after --only/--skip. */
export function renderBash(spec: CompletionSpec): string {
  const cases = flagsByCommand(spec)
    .map(([name, flags]) => `    ${quote(name)}) words_for=${quote([...flags, '--help'].join(' '))} ;;`)
    .join('\n');
  const subs = spec.filter((c) => c.subcommands).map((c) => `    ${c.name}) COMPREPLY=( $(compgen -W ${quote(c.subcommands!.map((s) => s.name).join(' '))} -- "$cur") ); return ;;`).join('\n');
  return `# bash completion for rearguard (rearguard completion bash)
_rearguard() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="\${COMP_WORDS[1]}" config="" i words_for=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -c|--config) config="\${COMP_WORDS[i+1]}" ;; esac
  done
  if ((COMP_CWORD == 1)); then
    COMPREPLY=( $(compgen -W ${quote([...spec.map((c) => c.name), '--help', '--version'].join(' '))} -- "$cur") ); return
  fi
  if ((COMP_CWORD == 2)); then
    case "$cmd" in
${subs}
    esac
  fi
  case "$prev" in
    ${FILE_FLAGS.join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  # --only and --skip take several names: walk back over them to the flag.
  i=$((COMP_CWORD - 1))
  while ((i > 1)) && [[ "\${COMP_WORDS[i]}" != -* ]]; do i=$((i - 1)); done
  if [[ "$cur" != -* ]] && [[ "\${COMP_WORDS[i]}" == ${NAME_FLAGS.join(' || "${COMP_WORDS[i]}" == ')} ]]; then
    # Only a clean answer counts: a config that cannot be read offers nothing rather than error text.
    local names; names=$(rearguard __names \${config:+-c "$config"} 2>/dev/null) || names=""
    COMPREPLY=( $(compgen -W "$names" -- "$cur") ); return
  fi
  [[ "\${COMP_WORDS[1]}" == config ]] && cmd="config \${COMP_WORDS[2]}"
  case "$cmd" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$words_for" -- "$cur") )
}
complete -o default -F _rearguard rearguard
`;
}

/** The zsh script: an autoloadable #compdef function, or `source`d directly. */
export function renderZsh(spec: CompletionSpec): string {
  const describe = (list: CompletionCommand[]): string => list.map((c) => quote(`${c.name}:${c.description.replace(/:/g, '\\:')}`)).join(' ');
  const cases = flagsByCommand(spec).map(([name, flags]) => `    ${quote(name)}) compadd -- ${[...flags, '--help'].join(' ')} ;;`).join('\n');
  const subs = spec.filter((c) => c.subcommands).map((c) => `      ${c.name}) local -a subs; subs=(${describe(c.subcommands!)}); _describe 'subcommand' subs; return ;;`).join('\n');
  return `#compdef rearguard
# zsh completion for rearguard (rearguard completion zsh)
_rearguard() {
  local cmd=\${words[2]} prev=\${words[CURRENT-1]} config="" i
  for ((i = 2; i < CURRENT; i++)); do
    [[ \${words[i]} == -c || \${words[i]} == --config ]] && config=\${words[i+1]}
  done
  if ((CURRENT == 2)); then
    local -a cmds; cmds=(${describe(spec)}); _describe 'command' cmds; return
  fi
  if ((CURRENT == 3)); then
    case $cmd in
${subs}
    esac
  fi
  case $prev in
    ${FILE_FLAGS.join('|')}) _files; return ;;
  esac
  i=$((CURRENT - 1))
  while ((i > 2)) && [[ \${words[i]} != -* ]]; do ((i--)); done
  if [[ \${words[CURRENT]} != -* ]] && [[ \${words[i]} == ${NAME_FLAGS.join(' || ${words[i]} == ')} ]]; then
    local names; names=$(rearguard __names \${config:+-c $config} 2>/dev/null) || names=""
    compadd -- \${(f)names}; return
  fi
  [[ $cmd == config ]] && cmd="config \${words[3]}"
  case $cmd in
${cases}
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then _rearguard "$@"; else compdef _rearguard rearguard; fi
`;
}

/** The fish script: one `complete` line per command and flag; names from the config after --only/--skip. */
export function renderFish(spec: CompletionSpec): string {
  const lines = [
    '# fish completion for rearguard (rearguard completion fish)',
    'function __rearguard_names',
    '    set -l tokens (commandline -opc)',
    '    set -l config',
    '    for i in (seq (count $tokens))',
    '        if contains -- $tokens[$i] -c --config; and test $i -lt (count $tokens)',
    '            set config -c $tokens[(math $i + 1)]',
    '        end',
    '    end',
    '    set -l names (rearguard __names $config 2>/dev/null); and printf "%s\\n" $names',
    'end',
    'complete -c rearguard -f',
  ];
  const top = spec.map((c) => c.name).join(' ');
  for (const command of spec) {
    lines.push(`complete -c rearguard -n "not __fish_seen_subcommand_from ${top}" -a ${command.name} -d ${quote(command.description)}`);
    const targets = command.subcommands
      ? command.subcommands.map((s) => {
          lines.push(`complete -c rearguard -n "__fish_seen_subcommand_from ${command.name}; and not __fish_seen_subcommand_from ${command.subcommands!.map((x) => x.name).join(' ')}" -a ${s.name} -d ${quote(s.description)}`);
          return { condition: `__fish_seen_subcommand_from ${s.name}`, flags: s.flags };
        })
      : [{ condition: `__fish_seen_subcommand_from ${command.name}`, flags: command.flags }];
    for (const target of targets) {
      for (const flag of target.flags.filter((f) => f.startsWith('--'))) {
        const short = flag === '--config' ? ' -s c' : '';
        const value = FILE_FLAGS.includes(flag) ? ' -r -F' : NAME_FLAGS.includes(flag) ? " -x -a '(__rearguard_names)'" : '';
        lines.push(`complete -c rearguard -n ${quote(target.condition)} -l ${flag.slice(2)}${short}${value}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Prints the completion script of `shell`. */
export function completionCommand(shell: string, spec: CompletionSpec, io: CommandIo): number {
  const renderers: Record<string, (s: CompletionSpec) => string> = { bash: renderBash, zsh: renderZsh, fish: renderFish };
  const render = renderers[shell];
  if (!render) throw new UsageError(`completion: expected bash, zsh or fish, got "${shell}"`);
  io.output.out(render(spec).trimEnd());
  return 0;
}

/** Prints the unit and stage names of the config, one a line; prints nothing when the config cannot be read. */
export async function listNamesCommand(flags: CommonFlags, io: CommandIo): Promise<number> {
  try {
    const config = await loadForCommand('plan', { config: flags.config }, io);
    const names = new Set(config.stages.flatMap((stage) => [...stage.units.map((unit) => unit.name), stage.name]));
    for (const name of names) io.output.out(name);
  } catch {
    // A completion must never print errors into the user's command line.
  }
  return 0;
}

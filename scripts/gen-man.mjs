#!/usr/bin/env node
// Writes the man page (dist/man/rearguard.1) from the built CLI's own --help texts, so the two never disagree.
// Usage: node scripts/gen-man.mjs [out-file]   (after `npm run build`; `npm pack` runs both)
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'dist/man/rearguard.1'));
const help = (...args) =>
  execFileSync(process.execPath, [path.join(root, 'bin/rearguard'), ...args, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

// Help text sections: "Usage:" line, description paragraph, then "Options:", "Commands:", "Examples:" blocks, then the docs line.
function parseHelp(text) {
  const lines = text.replace(/\n+$/, '').split('\n');
  const usage = lines[0].replace(/^Usage: /, '');
  const sections = {};
  const description = [];
  let current;
  for (const line of lines.slice(1)) {
    const heading = /^(\w[\w ]*):$/.exec(line);
    if (heading) {
      current = sections[heading[1]] = [];
    } else if (current && line.startsWith('  ')) {
      current.push(line);
    } else if (line.trim() !== '') {
      (current ? (sections.trailer ??= []) : description).push(line.trim());
      current = undefined;
    }
  }
  return { usage, description: description.join(' '), sections };
}

// "  term   text" rows; wrapped continuation lines are indented deeper and join the row before.
function parseRows(lines = []) {
  const rows = [];
  for (const line of lines) {
    const row = /^ {2}(\S.*?)(?: {2,}(\S.*))?$/.exec(line);
    if (row) rows.push({ term: row[1], text: row[2] ?? '' });
    else if (rows.length > 0) rows[rows.length - 1].text += ` ${line.trim()}`;
  }
  return rows;
}

const esc = (text) => text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1');

function renderRows(rows) {
  return rows.flatMap((row) => ['.TP', `.B ${esc(row.term)}`, esc(row.text)]);
}

const top = parseHelp(help());
const version = execFileSync(process.execPath, [path.join(root, 'bin/rearguard'), '--version'], { encoding: 'utf8' }).trim();
const page = [
  `.TH REARGUARD 1 "" "rearguard ${esc(version)}" "User Commands"`,
  '.SH NAME',
  `rearguard \\- ${esc(top.description)}`,
  '.SH SYNOPSIS',
  `.B rearguard`,
  '\\fIcommand\\fR [\\fIoptions\\fR]',
  '.SH DESCRIPTION',
  esc(top.description),
  '.PP',
  'Exit status: 0 go, 1 go with warnings, 2 do not deploy.',
  '.SH EXAMPLES',
  '.nf',
  ...(top.sections.Examples ?? []).map((line) => esc(line.trim())),
  '.fi',
  '.SH OPTIONS',
  ...renderRows(parseRows(top.sections.Options)),
  '.SH COMMANDS',
];
for (const command of parseRows(top.sections.Commands)) {
  const name = command.term.split(' ')[0];
  if (name === 'help') continue;
  const parsed = parseHelp(help(name));
  const subcommands = parseRows(parsed.sections.Commands).filter((row) => !row.term.startsWith('help'));
  const blocks = subcommands.length > 0 ? subcommands.map((row) => parseHelp(help(name, row.term.split(' ')[0]))) : [parsed];
  for (const sub of blocks) {
    page.push(`.SS ${esc(sub.usage)}`, esc(sub.description));
    const options = parseRows(sub.sections.Options).filter((row) => !row.term.startsWith('-h, --help'));
    if (options.length > 0) page.push('.RS', ...renderRows(options), '.RE');
    const examples = (sub.sections.Examples ?? []).map((line) => line.trim());
    if (examples.length > 0) page.push('.PP', 'Examples:', '.RS', '.nf', ...examples.map(esc), '.fi', '.RE');
  }
}
page.push(
  '.SH EXIT STATUS',
  '.TP', '.B 0', 'ok: go; every pre\\-flight check, unit and verification passed',
  '.TP', '.B 1', 'partial: go with warnings',
  '.TP', '.B 2', 'critical: do not deploy (also for an invalid config, a held lock, a signal, a usage error)',
  '.SH ENVIRONMENT',
  '.TP', '.B REARGUARD_CONFIG', 'config file used when \\-c is not given and ./rearguard.yml does not exist',
  '.TP', '.B NO_COLOR', 'no colour, whatever its value',
  '.TP', '.B FORCE_COLOR', 'colour even when the output is not a terminal (0 turns it off)',
  '.TP', '.B CI', 'plain line output, no live tree',
  '.SH SEE ALSO',
  esc((top.sections.trailer ?? []).join(' ')),
  '',
);

mkdirSync(path.dirname(out), { recursive: true });
const temp = `${out}.tmp-${process.pid}`;
writeFileSync(temp, page.join('\n'));
const fd = openSync(temp, 'r');
fsyncSync(fd);
closeSync(fd);
renameSync(temp, out);
console.log(`wrote ${path.relative(process.cwd(), out) || out}`);

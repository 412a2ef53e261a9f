// The fast read of a config against the `yaml` library, the simple path it stands in for: on every text it takes,
// it must give the same data, and what it does not take goes to the `yaml` library. Hand-picked cases for each
// rule of the subset, then mutated and generated texts, seeded so a failure is reproducible. A longer search:
// REARGUARD_FUZZ_SEED=<n> REARGUARD_FUZZ_ROUNDS=30000 npx vitest run test/unit/config/plain-yaml.test.ts
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { readPlainYaml } from '../../../src/config/plain-yaml.js';
import { ROOT } from '../../helpers/cli.js';

const ROUNDS = Number(process.env.REARGUARD_FUZZ_ROUNDS ?? 3000);

/** The `yaml` library's reading, with the options config-document.ts reads configs with. */
function readWithYaml(text: string): { data: unknown } | { error: string } {
  const doc = parseDocument(text, { lineCounter: new LineCounter(), prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { error: doc.errors[0]!.message };
  try {
    return { data: doc.toJS() as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** 'same', 'left' (to the yaml library), or a disagreement: the fast read took a text the yaml library reads otherwise. */
function compare(text: string): 'same' | 'left' | { text: string; fast: unknown; yaml: unknown } {
  const fast = readPlainYaml(text);
  if (fast === undefined) return 'left';
  const reference = readWithYaml(text);
  if ('data' in reference && isDeepStrictEqual(fast.data, reference.data)) return 'same';
  return { text, fast: fast.data, yaml: reference };
}

describe('the fast config read', () => {
  it('reads scalars as YAML 1.2 core schema does, the yaml library\'s default', () => {
    const scalars = [
      '1', '-0', '+12', '007', '0o17', '0x1F', '12345678901234567890', '1.', '.5', '-.5e-3', '1e3', '1E+3', '.inf', '-.Inf', '.NaN',
      'true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'No', 'on', 'y', '~', 'null', 'Null', 'NULL', 'nULL', '',
      '1_000', '0b101', '017.5', '0o8', '0xG', '2024-01-01', '2024-01-01T10:00:00Z', '12:30:00', '1:30', '=', '<<',
      '"1"', "'true'", '"\\t\\u00e9\\x41"', '"a\\\\b"', "'it''s'", '30m', '/backups/app-*.tar.gz', 'a && b', 'x#y',
    ];
    for (const scalar of scalars) {
      const text = `a: ${scalar}\nlist: [${scalar}]\n`;
      expect(compare(text), text).toBe('same');
    }
  });

  it('reads the configs shipped with rearguard', () => {
    const files = readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' }).filter((name) => /\.ya?ml$/.test(name));
    expect(files.length).toBeGreaterThan(3);
    for (const name of files) expect(compare(readFileSync(path.join(ROOT, 'examples', name), 'utf8')), name).toBe('same');
  });

  it('reads an empty file as null, as the yaml library does', () => {
    expect(readPlainYaml('')).toEqual({ data: null });
    expect(readPlainYaml('# nothing\n')).toEqual({ data: null });
  });

  // One text for each rule of the subset. Without its rule, the fast read would take most of them, and for several
  // (the %YAML directive, the quoted scalar, the glued comment, the keys) give other data than the yaml library, or
  // data where the yaml library finds an error.
  it.each([
    ['an anchor and alias (the yaml library limits their expansion)', 'a: &x [1]\nb: *x\n'],
    ['a %YAML 1.1 directive (yes is true in YAML 1.1)', '%YAML 1.1\n---\na: yes\n'],
    ['an explicit tag', 'a: !!int "12"\n'],
    ['a custom tag', 'a: !secret x\n'],
    ['the non-specific tag', 'a: ! 12\n'],
    ['a quoted scalar over two lines, its second line not indented', '- url: "a\n- b"\n'],
    ['a plain scalar over two lines', 'a: one\n  two\n'],
    ['a flow collection over two lines', 'a: [1,\n2]\n'],
    ['a block scalar with a line of spaces past its indentation', '  - |2\n        w\n      \n'],
    ['a kept block scalar ending the file in a line of spaces', '  -  >+\n      x\n   '],
    ['the same after a byte order mark', '\ufeff  -  >+\n      x\n   '],
    ['a list entry less indented than its list, after an empty entry', 'p:\n  -\n-  x\n'],
    ['a comment glued to a flow mapping', '- {a: 1}#c\n'],
    ['a comment glued to a quoted scalar', 'a: "x"#c\n'],
    ['a list as a key', '? [a, b]\n: x\n'],
    ['a mapping as a key inside a flow list', 'a: [{b: 1}: 2]\n'],
    ['a null key', '~: x\n'],
    ['an empty key', '? \n: x\n'],
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['keys 1 and "1", which the yaml library keeps apart', '1: a\n"1": b\n'],
    ['a syntax error', 'a: [1, 2\n'],
  ])('leaves %s to the yaml library', (_why, text) => {
    expect(readPlainYaml(text)).toBeUndefined();
  });

  it('agrees with the yaml library on mutated configs', () => {
    const seeds = readdirSync(path.join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.ya?ml$/.test(name))
      .map((name) => readFileSync(path.join(ROOT, 'examples', name), 'utf8'));
    const random = seeded(Number(process.env.REARGUARD_FUZZ_SEED ?? 20261124));
    const tokens = [
      ' ', '  ', '\t', '\n', '\n  ', '\n- ', ':', ': ', '- ', '#', ' #', '"', "'", '\\', '[', ']', '{', '}', ',', '? ', '|', '>', '|-', '>+',
      '&a ', '*a', '!', '!!str ', '%', '---', '...', '@', '`', '~', 'null', 'yes', '0o7', '1_0', '1e3', '.5', '.inf', '\r\n', '\ufeff', 'é',
      '\u2028', '\u0085', '\x00', '{a: b}', '[a, b]', '"\\u00e9"', "'a''b'", '<<: ',
    ];
    const counts = { same: 0, left: 0 };
    const disagreements: unknown[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      let text = pick(random, seeds);
      for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits -= 1) {
        const at = Math.floor(random() * (text.length + 1));
        const how = random();
        if (how < 0.4) text = text.slice(0, at) + pick(random, tokens) + text.slice(at);
        else if (how < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 3));
        else text = text.slice(0, at) + pick(random, tokens) + text.slice(at + 1);
      }
      const result = compare(text);
      if (typeof result === 'string') counts[result] += 1;
      else disagreements.push(result);
    }
    expect(disagreements).toEqual([]);
    // Most mutations still read, so the comparison is of data, not only of refusals.
    expect(counts.same).toBeGreaterThan(300);
  });

  it('agrees with the yaml library on generated texts: nested blocks, flow collections, block scalars, odd scalars', () => {
    const random = seeded(Number(process.env.REARGUARD_FUZZ_SEED ?? 7));
    const scalars = [
      'a', 'b c', 'x: y', 'x:y', 'x #y', 'x#y', '-x', '- x', '?x', ':x', '1', '-1', '+1', '1_0', '0o7', '0O7', '0x1F', '0X1F', '1e3', '1.', '.1',
      '.', '-.inf', 'NaN', 'null', 'nUll', '~', 'True', 'tRUE', 'yes', '', '"q"', '"q\\"r"', '"\\t\\u00e9\\N\\_"', '"\\q"', "'s'", "'it''s'",
      '2024-01-01', '12:30', '@a', '`a', '%a', '!a', '&a', '*a', '|a', '>a', '=', '<<', 'a,b', 'a]', 'a}', '"', "'", 'é', '\u2028', 'a\tb',
      'http://x:80/p?q=1#f', '/path/*.tar.gz', 'a && b', '${X}',
    ];
    const node = (depth: number, indent: number): { inline: string; block?: string } => {
      const kind = random();
      if (depth > 3 || kind < 0.45) return { inline: pick(random, scalars) };
      if (kind < 0.55) return { inline: `${pick(random, ['[', '[ '])}${times(random, 3, () => pick(random, scalars)).join(pick(random, [', ', ',', ' ,']))}${pick(random, [']', ' ]', ',]'])}` };
      if (kind < 0.62) return { inline: `{${times(random, 3, () => `${pick(random, scalars)}${pick(random, [': ', ':', ' : '])}${pick(random, scalars)}`).join(', ')}}` };
      if (kind < 0.7) {
        const pad = ' '.repeat(indent + pick(random, [1, 2, 2, 4]));
        const lines = times(random, 3, () => pad + pick(random, ['x', 'y z', '', '  w', '#c', 'a: b', '- q']), 1);
        return { inline: pick(random, ['|', '>', '|-', '>+', '|2', '>-', '| #c']), block: lines.join('\n') };
      }
      const childIndent = indent + pick(random, [0, 1, 2, 2, 2, 4]);
      const pad = ' '.repeat(childIndent);
      const list = random() < 0.4;
      const lines: string[] = [];
      for (const _ of times(random, 3, () => 0, 1)) {
        const child = node(depth + 1, childIndent);
        const head = list ? `${pad}-${pick(random, [' ', ' ', '  ', ''])}` : `${pad}${pick(random, scalars)}${pick(random, [':', ': ', ':  ', ' :'])}`;
        lines.push(`${head}${child.inline}${random() < 0.1 ? pick(random, [' # c', '#c', ' ', '\t']) : ''}`);
        if (child.block) lines.push(child.block);
        if (random() < 0.1) lines.push(pick(random, ['', '#c', `${pad}#c`, '   ']));
      }
      return { inline: '', block: lines.join('\n') };
    };
    const counts = { same: 0, left: 0 };
    const disagreements: unknown[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      const root = node(0, 0);
      const result = compare(`${root.block ?? root.inline}${pick(random, ['', '\n', '\n\n'])}`);
      if (typeof result === 'string') counts[result] += 1;
      else disagreements.push(result);
    }
    expect(disagreements).toEqual([]);
    expect(counts.same).toBeGreaterThan(300);
  });
});

/** A small deterministic generator (an LCG): the same seed, the same texts. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function times<T>(random: () => number, max: number, make: () => T, min = 0): T[] {
  return Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, make);
}

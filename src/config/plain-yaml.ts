// The fast read of a config: js-yaml for the plain YAML configs are written in, with the same meaning the `yaml`
// library gives it; anything outside that subset is left to the `yaml` library (config-document.ts).
//
// Why two readers: the `yaml` library keeps every node's position, which every config message needs for its line,
// and it is slow to start: on a config of 200 units, loading it and reading the file took about 120 ms of a run,
// js-yaml about 17 ms. So a config is read here first, and only a config this reader does not take, or one the
// schema refuses, is read again by the `yaml` library, whose data and messages are then the ones used.
//
// The subset taken here is what both libraries read alike (checked side by side on the same texts, mutated and
// generated, in test/unit/config/plain-yaml.test.ts):
// - scalars resolve by YAML 1.2's core schema, as the `yaml` library's default does (js-yaml's own schemas
//   would also read 1_000 as a number and 2024-01-01 as a date);
// - no anchors, aliases, tags or %YAML directive: the `yaml` library limits alias expansion, reads a %YAML 1.1
//   file by YAML 1.1's rules, and treats tags its own way;
// - no flow scalar or flow collection spread over several lines, and no comment glued to a node: js-yaml is
//   laxer about their indentation and separation than the YAML spec and the `yaml` library;
// - no line of only spaces or tabs inside a block scalar (`|`, `>`): the two libraries keep different parts of it;
// - no line inside a block mapping or list indented less than the collection itself;
// - no key that is a list, a mapping or null: the two libraries turn those into different strings;
// - no error of any kind: a duplicate key, a bad indentation or a nesting past js-yaml's depth limit all go to
//   the `yaml` library, which says what is wrong and where.
import { load, Schema, Type, type LoadOptions } from 'js-yaml';

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

// Private tags: an explicit tag in the text (`!!int 1`, `!!str x`) is then unknown to js-yaml, an error, and the
// text goes to the `yaml` library. The order is the core schema's: null, bool, int, float.
const CORE_SCHEMA = new Schema({
  implicit: [
    new Type('tag:rearguard,core:null', { kind: 'scalar', resolve: (text: string) => NULL.test(text), construct: () => null }),
    new Type('tag:rearguard,core:bool', { kind: 'scalar', resolve: (text: string) => BOOL.test(text), construct: (text: string) => text[0] === 't' || text[0] === 'T' }),
    new Type('tag:rearguard,core:int', {
      kind: 'scalar',
      resolve: (text: string) => INT_OCT.test(text) || INT.test(text) || INT_HEX.test(text),
      construct: (text: string) => (INT_OCT.test(text) ? parseInt(text.slice(2), 8) : INT.test(text) ? parseInt(text, 10) : parseInt(text.slice(2), 16)),
    }),
    new Type('tag:rearguard,core:float', {
      kind: 'scalar',
      resolve: (text: string) => FLOAT_NAN.test(text) || FLOAT_EXP.test(text) || FLOAT.test(text),
      construct: (text: string) => (FLOAT_NAN.test(text) ? nanOrInfinity(text) : parseFloat(text)),
    }),
  ],
});

function nanOrInfinity(text: string): number {
  if (text.slice(-3).toLowerCase() === 'nan') return NaN;
  return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** What js-yaml's listener is shown of its reader as a node opens and closes. */
interface ReaderState {
  input: string;
  position: number;
  kind: 'scalar' | 'mapping' | 'sequence' | null;
  result: unknown;
  anchor: string | null;
  tag: string | null;
  version: string | null;
}

/**
 * Reads config text in the plain subset: `{ data }` (null for an empty file), or undefined when the text is outside
 * it or is not valid YAML, and must be read by the `yaml` library.
 */
export function readPlainYaml(text: string): { data: unknown } | undefined {
  let plain = true;
  // The nodes js-yaml is reading, outermost first: where each opened, and where its children's own text starts.
  const open: { at: number; children: number[] }[] = [];
  // Every mapping and list js-yaml made: one missing from the data was used as a key.
  const collections = new Set<unknown>();
  const listener = (event: 'open' | 'close', state: ReaderState): void => {
    if (event === 'open') {
      open.push({ at: state.position, children: [] });
      return;
    }
    // Positions are in js-yaml's copy of the text: without a byte order mark, with a line break at its end.
    const input = state.input;
    const node = open.pop()!;
    const start = contentStart(input, node.at);
    // An empty node has no text of its own: what follows it belongs to another node.
    if (state.kind !== null) open[open.length - 1]?.children.push(start);
    const first = input[start];
    const blockScalar = state.kind === 'scalar' && (first === '|' || first === '>');
    const flow = state.kind === 'scalar' ? !blockScalar : first === '[' || first === '{';
    const body = input.slice(start, state.position);
    if (flow && /[\n\r]/.test(body)) plain = false;
    if (blockScalar && hasBlankLineWithSpaces(body.slice(0, body.lastIndexOf('\n') + 1))) plain = false;
    if (!flow && state.kind !== 'scalar' && !node.children.every((child) => indentedWithin(input, child, start))) plain = false;
    if (input[state.position] === '#' && !/[ \t\n\r]/.test(input[state.position - 1] ?? ' ')) plain = false;
    if (state.anchor !== null || state.tag === '!' || state.version !== null) plain = false;
    if (state.kind === 'mapping' || state.kind === 'sequence') collections.add(state.result);
  };
  let data: unknown;
  try {
    data = load(text, { schema: CORE_SCHEMA, listener: listener as unknown as LoadOptions['listener'] });
  } catch {
    return undefined;
  }
  if (!plain) return undefined;
  if (!visitTree(data, collections) || collections.size > 0) return undefined;
  return { data: data ?? null };
}

/**
 * A line of only spaces or tabs in a block scalar, up to its last line break (what follows that is the next node's
 * indentation). The two libraries disagree on whether such a line, past the scalar's indentation, is content.
 */
function hasBlankLineWithSpaces(body: string): boolean {
  return /\n[ \t]+(?:\r?\n|$)/.test(body);
}

/**
 * Whether a child of a block mapping or list that starts on a later line than the collection sits on a line indented
 * at least as far as the collection. js-yaml takes some less indented lines into the collection (an entry after an
 * empty `-`), where the `yaml` library finds an error.
 */
function indentedWithin(text: string, child: number, collection: number): boolean {
  const childLine = text.lastIndexOf('\n', child - 1) + 1;
  const collectionLine = text.lastIndexOf('\n', collection - 1) + 1;
  if (childLine === collectionLine) return true;
  let indent = 0;
  while (text[childLine + indent] === ' ') indent += 1;
  return indent >= collection - collectionLine;
}

/** Where a node's own text starts: past the spaces, line breaks and comments before it. */
function contentStart(text: string, from: number): number {
  let at = from;
  for (;;) {
    const c = text[at];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') at += 1;
    else if (c === '#') while (at < text.length && text[at] !== '\n') at += 1;
    else return at;
  }
}

/** Walks the data, crossing off each collection met; false when a key was null (js-yaml writes it "null"). */
function visitTree(value: unknown, collections: Set<unknown>): boolean {
  if (value === null || typeof value !== 'object') return true;
  collections.delete(value);
  if (Array.isArray(value)) return value.every((item) => visitTree(item, collections));
  for (const [key, item] of Object.entries(value)) {
    if (key === 'null' || !visitTree(item, collections)) return false;
  }
  return true;
}

// Reads config text with the `yaml` library, which keeps every node's position: validates it against the schema
// and reports every problem with its line. The reader of every config the fast read (plain-yaml.ts) does not take,
// and of every config the schema refuses.
import { isMap, isNode, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type * as z from '../contract/zod.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { ArtifactKinds } from './kinds.js';
import { buildConfigSchema, type RawConfig } from './schema.js';

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** Validates config text (pure); `file` only names the source in messages. Throws ConfigError listing every problem. */
export function readConfigDocument(text: string, file: string, kinds: ArtifactKinds): RawConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => ({
        file,
        path: '',
        line: error.linePos?.[0].line,
        message: `invalid YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (error) {
    // An alias to an anchor set after it (or nowhere), or aliases past the library's limit on their expansion.
    throw new ConfigError([{ file, path: '', line: unresolvedAliasLine(doc, lineCounter), message: `invalid YAML: ${(error as Error).message}` }], { cause: error });
  }
  if (data === null || data === undefined) {
    throw new ConfigError([{ file, path: '', message: 'the config file is empty; expected "version: 1" and stages' }]);
  }
  const result = buildConfigSchema(kinds).safeParse(data, { reportInput: true });
  if (result.success) return result.data;
  const problems = flattenIssues(result.error.issues).map((issue) => toProblem(issue, doc, lineCounter, file));
  throw new ConfigError(dedupe(problems).sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
}

/** The line of the first alias that names no anchor set before it, if there is one. */
function unresolvedAliasLine(doc: Document, lineCounter: LineCounter): number | undefined {
  let line: number | undefined;
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) !== undefined || !alias.range) return undefined;
      line = lineCounter.linePos(alias.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Unions report one issue per branch; keep the branch that came closest to matching. */
function flattenIssues(issues: readonly Issue[], prefix: readonly PathKey[] = []): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const fullPath = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branches = issue.errors.filter((branch) => !isWholeTypeMismatch(branch));
      const ranked = (branches.length > 0 ? branches : issue.errors).slice().sort((a, b) => score(a) - score(b));
      const best = ranked[0] ?? [];
      if (branches.length === 0) {
        out.push({ ...issue, path: fullPath, message: describeUnionExpectation(issue.errors) });
      } else {
        out.push(...flattenIssues(best, fullPath));
      }
      continue;
    }
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // A bad record key: report the key's own rule, at the key.
      const inner = issue.issues[0]!;
      const key: unknown = issue.input ?? fullPath[fullPath.length - 1];
      out.push({ ...issue, code: 'custom', path: fullPath, message: `${inner.message}, got "${typeof key === 'string' || typeof key === 'number' ? key : JSON.stringify(key)}"` });
      continue;
    }
    out.push({ ...issue, path: fullPath });
  }
  return out;
}

function isWholeTypeMismatch(branch: readonly Issue[]): boolean {
  return branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0;
}

function score(branch: readonly Issue[]): number {
  // An unknown key in a branch usually means "this is not the shape the user meant".
  return branch.reduce((sum, issue) => sum + (issue.code === 'unrecognized_keys' ? 10 * issue.keys.length : 1), 0);
}

function describeUnionExpectation(branches: readonly (readonly Issue[])[]): string {
  const expected = branches
    .map((branch) => {
      const first = branch[0];
      if (first?.code === 'invalid_type') return first.expected;
      if (first?.code === 'invalid_value') return first.values.map((v) => JSON.stringify(v)).join(' or ');
      return undefined;
    })
    .filter((e): e is string => e !== undefined);
  return `expected ${[...new Set(expected)].join(' or ') || 'a different shape'}`;
}

function toProblem(issue: Issue, doc: Document, lineCounter: LineCounter, file: string): ConfigProblem {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const keyPath = [...path, key];
    return {
      file,
      path: formatPath(keyPath),
      line: lineOf(doc, lineCounter, path, key),
      message:
        issue.keys.length === 1
          ? `unknown key "${key}" (check the spelling; unknown keys are errors)`
          : `unknown keys ${issue.keys.map((k) => `"${k}"`).join(', ')} (check the spelling; unknown keys are errors)`,
    };
  }
  return { file, path: formatPath(path), line: lineOf(doc, lineCounter, path), message: describeIssue(issue) };
}

function describeIssue(issue: Issue): string {
  const got = describeInput(issue.input);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'a whole number' : issue.expected;
      return issue.input === undefined ? `expected ${expected}, found nothing (this key is required)` : `expected ${expected}, got ${got}`;
    }
    case 'invalid_value':
      return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${got}`;
    case 'too_small':
    case 'too_big':
      // zod says "Too small: expected string to have >=1 characters"; a custom message stays as written.
      return `${issue.message.replace(/^Too (?:small|big): (?:expected )?/, 'expected ')}, got ${got}`;
    case 'custom':
      return issue.message;
    default:
      return issue.input === undefined ? issue.message : `${issue.message}, got ${got}`;
  }
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return `a list (${JSON.stringify(input).slice(0, 60)})`;
  if (typeof input === 'object') return 'a mapping';
  return JSON.stringify(input);
}

/** Formats a path as written in messages: stages[2].units[0].timeout. */
function formatPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? key : `${out}.${key}`;
  }, '');
}

function lineOf(doc: Document, lineCounter: LineCounter, path: ReadonlyArray<string | number>, key?: string): number | undefined {
  // Walk as deep as the document goes; a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (!isNode(node)) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
    }
    if (node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

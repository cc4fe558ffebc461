/**
 * Mutations of a valid JSON value (a body, a header, a JWE): the one job of this module. A mutation
 * is data (a list of operations fast-check generates and shrinks), applied by a pure function, so a
 * failing case prints as something a person can read and replays from its seed.
 */
import fc from 'fast-check';

/** Values that have broken parsers and schemas before: wrong types, edges of number ranges, tricky strings. */
const SPECIAL_VALUES: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0,
  2 ** 53,
  -(2 ** 63),
  1e308,
  '',
  ' ',
  '\u0000',
  '\u202e',
  '\ud800',
  '__proto__',
  'constructor',
  'toString',
  '../../etc/passwd',
  '%00',
  'did:peer:2',
  'did:web:',
  'https://didcomm.org/',
  '1970-01-01T00:00:00Z',
  [],
  {},
  [null],
  JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
];

/** A string long enough to pass any sane field limit (but not the envelope's byte limit every time). */
export const hugeString: fc.Arbitrary<string> = fc.integer({ min: 5_000, max: 300_000 }).map((n) => 'A'.repeat(n));

/** Arrays or objects nested `depth` deep: a recursive parser or schema must not blow its stack. */
export function nested(depth: number, kind: 'array' | 'object'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = kind === 'array' ? [value] : { a: value };
  return value;
}
// Kept shallow enough for the harness's own recursion (structuredClone, JSON.stringify); deeper
// nesting goes as raw text (`deepText`), which only the agent has to parse.
export const deepNesting: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 20, max: 1_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([depth, kind]) => nested(depth, kind));

/** Nesting far past any recursion limit, as text: `[[[...1...]]]` or `{"a":{"a":...}}`. */
export function deepText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Any value that may stand where a valid one stood. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...SPECIAL_VALUES), weight: 4 },
  { arbitrary: fc.string(), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary' }), weight: 1 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  { arbitrary: hugeString, weight: 1 },
  { arbitrary: deepNesting, weight: 1 },
);

/** One change to one place of a JSON value. `at` picks the place among the value's paths (modulo their count). */
export type JsonOp =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'retype'; at: number }
  | { op: 'string'; at: number; edit: 'truncate' | 'append' | 'empty' | 'control' | 'duplicate'; n: number };

export const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: weirdValue }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('add' as const), at: fc.nat(), key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'id', 'type', 'body')), value: weirdValue }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('retype' as const), at: fc.nat() }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('string' as const), at: fc.nat(), edit: fc.constantFrom('truncate' as const, 'append' as const, 'empty' as const, 'control' as const, 'duplicate' as const), n: fc.nat({ max: 64 }) }),
    weight: 3,
  },
);

/** One to three changes, or none (the valid value itself, sometimes, so valid paths are exercised too). */
export const jsonOps: fc.Arbitrary<JsonOp[]> = fc.oneof({ arbitrary: fc.constant<JsonOp[]>([]), weight: 1 }, { arbitrary: fc.array(jsonOp, { minLength: 1, maxLength: 3 }), weight: 9 });

type Path = readonly (string | number)[];

/** Every path of a value, the root (`[]`) first. */
function pathsOf(value: unknown, prefix: Path = [], out: Path[] = [], limit = 500): Path[] {
  out.push(prefix);
  if (out.length >= limit) return out;
  if (Array.isArray(value)) value.forEach((item, i) => pathsOf(item, [...prefix, i], out, limit));
  else if (value !== null && typeof value === 'object') for (const key of Object.keys(value)) pathsOf((value as Record<string, unknown>)[key], [...prefix, key], out, limit);
  return out;
}

function get(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined), value);
}

/** Sets (or with `undefined`, deletes) the value at `path`, returning the new root. */
function set(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = get(root, path.slice(0, -1));
  const key = path[path.length - 1]!;
  if (Array.isArray(parent) && typeof key === 'number') {
    if (value === undefined) parent.splice(key, 1);
    else parent[key] = value;
  } else if (parent !== null && typeof parent === 'object') {
    // defineProperty, so a key such as "__proto__" becomes an own property, as JSON.parse makes it.
    if (value === undefined) delete (parent as Record<string, unknown>)[key];
    else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

function retype(value: unknown): unknown {
  if (typeof value === 'string') return Number.isNaN(Number(value)) ? value.length : Number(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (value !== null && typeof value === 'object') return Object.values(value);
  return 'null';
}

function editString(text: string, edit: Extract<JsonOp, { op: 'string' }>['edit'], n: number): string {
  switch (edit) {
    case 'truncate':
      return text.slice(0, Math.min(n, Math.max(0, text.length - 1)));
    case 'append':
      return text + 'x'.repeat(n + 1);
    case 'empty':
      return '';
    case 'control':
      return `${text.slice(0, n)}\u0000\u001b[2J\r\n${text.slice(n)}`;
    case 'duplicate':
      return text.repeat(2 + (n % 8));
  }
}

/** A deep copy of `valid` with `ops` applied, in order. */
export function applyJsonOps(valid: unknown, ops: readonly JsonOp[]): unknown {
  let root: unknown = valid === undefined ? undefined : structuredClone(valid);
  for (const op of ops) {
    const paths = pathsOf(root);
    const path = paths[op.at % paths.length]!;
    const current = get(root, path);
    switch (op.op) {
      case 'replace':
        root = set(root, path, structuredClone(op.value));
        break;
      case 'delete':
        root = path.length === 0 ? undefined : set(root, path, undefined);
        break;
      case 'add':
        if (current !== null && typeof current === 'object' && !Array.isArray(current)) set(current, [op.key], structuredClone(op.value));
        else if (Array.isArray(current)) current.push(structuredClone(op.value));
        else root = set(root, path, { [op.key]: structuredClone(op.value) });
        break;
      case 'retype':
        root = set(root, path, retype(current));
        break;
      case 'string':
        if (typeof current === 'string') root = set(root, path, editString(current, op.edit, op.n));
        else root = set(root, path, editString(JSON.stringify(current) ?? '', op.edit, op.n));
        break;
    }
  }
  return root;
}

/** The text of a body: JSON of the mutated value, or (sometimes) bytes that are not JSON at all. */
export type TextOp =
  | { text: 'json' }
  | { text: 'truncate'; n: number }
  | { text: 'garbage'; bytes: Uint8Array }
  | { text: 'empty' }
  | { text: 'bom' }
  | { text: 'deep'; depth: number; kind: 'array' | 'object' };

export const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  { arbitrary: fc.constant({ text: 'json' as const }), weight: 12 },
  { arbitrary: fc.record({ text: fc.constant('truncate' as const), n: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ text: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 512 }) }), weight: 1 },
  { arbitrary: fc.constant({ text: 'empty' as const }), weight: 1 },
  { arbitrary: fc.constant({ text: 'bom' as const }), weight: 1 },
  { arbitrary: fc.record({ text: fc.constant('deep' as const), depth: fc.integer({ min: 1_000, max: 100_000 }), kind: fc.constantFrom('array' as const, 'object' as const) }), weight: 1 },
);

/** Serialises a (mutated) value as `op` says: a string, or bytes when they are not text. */
export function serialise(value: unknown, op: TextOp): string | Uint8Array {
  if (op.text === 'deep') return deepText(op.depth, op.kind);
  const json = JSON.stringify(value) ?? '';
  switch (op.text) {
    case 'json':
      return json;
    case 'truncate':
      return json.slice(0, op.n % Math.max(1, json.length));
    case 'garbage':
      return op.bytes;
    case 'empty':
      return '';
    case 'bom':
      return `\ufeff${json}`;
  }
}

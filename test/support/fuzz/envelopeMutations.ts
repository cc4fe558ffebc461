/**
 * Mutations of valid packed envelopes (JWE General JSON): the protected header's fields changed,
 * removed or retyped, base64url segments truncated or bit-flipped, the recipients array emptied,
 * duplicated or its kid swapped, wrong types, huge strings, deep nesting, bytes that are not JSON.
 * Each case is data (which valid envelope, which operations), applied by `applyEnvelopeCase`.
 */
import fc from 'fast-check';
import { applyJsonOps, deepText, jsonOps, type JsonOp } from './jsonMutations.js';

/** The JWE members holding base64url. */
const SEGMENTS = ['protected', 'iv', 'ciphertext', 'tag', 'encrypted_key'] as const;
type Segment = (typeof SEGMENTS)[number];

export type EnvelopeOp =
  /** Any JSON-level change of the JWE object (fields removed, retyped, huge, nested). */
  | { kind: 'jwe'; ops: JsonOp[] }
  /** A change inside the decoded protected header, re-encoded. */
  | { kind: 'header'; ops: JsonOp[] }
  | { kind: 'truncate'; segment: Segment; n: number }
  | { kind: 'flip'; segment: Segment; at: number; bit: number }
  | { kind: 'garble'; segment: Segment; text: string }
  | { kind: 'recipients'; change: 'empty' | 'duplicate' | 'drop-header' | 'not-array' }
  | { kind: 'kid'; kid: string }
  | { kind: 'bytes'; change: 'truncate' | 'append' | 'wrap-array' | 'random'; n: number; bytes: Uint8Array }
  /** The JWE with one member replaced by nesting far too deep (as text: the harness never builds it). */
  | { kind: 'deep'; member: 'protected' | 'recipients' | 'unprotected' | 'ciphertext'; depth: number; shape: 'array' | 'object' };

export interface EnvelopeCase {
  /** Which of the valid envelopes to start from (modulo their count). */
  base: number;
  ops: EnvelopeOp[];
}

const segment = fc.constantFrom(...SEGMENTS);

/**
 * @param kids other plausible key ids to swap in (the agent's own, other parties' keys)
 */
export function envelopeCase(kids: readonly string[]): fc.Arbitrary<EnvelopeCase> {
  const op: fc.Arbitrary<EnvelopeOp> = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('jwe' as const), ops: jsonOps }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('header' as const), ops: jsonOps }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('truncate' as const), segment, n: fc.nat() }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('flip' as const), segment, at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('garble' as const), segment, text: fc.oneof(fc.string(), fc.constantFrom('', '====', '+/+/', '!!', 'AA')) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('recipients' as const), change: fc.constantFrom('empty' as const, 'duplicate' as const, 'drop-header' as const, 'not-array' as const) }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('kid' as const), kid: fc.oneof(fc.constantFrom(...kids, ''), fc.string()) }), weight: 2 },
    {
      arbitrary: fc.record({
        kind: fc.constant('bytes' as const),
        change: fc.constantFrom('truncate' as const, 'append' as const, 'wrap-array' as const, 'random' as const),
        n: fc.nat(),
        bytes: fc.uint8Array({ maxLength: 256 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('deep' as const),
        member: fc.constantFrom('protected' as const, 'recipients' as const, 'unprotected' as const, 'ciphertext' as const),
        depth: fc.integer({ min: 1_000, max: 100_000 }),
        shape: fc.constantFrom('array' as const, 'object' as const),
      }),
      weight: 1,
    },
  );
  return fc.record({ base: fc.nat(), ops: fc.array(op, { minLength: 1, maxLength: 3 }) });
}

type Jwe = Record<string, unknown> & { recipients?: unknown };

function b64Bytes(text: unknown): Buffer {
  return Buffer.from(typeof text === 'string' ? text : '', 'base64url');
}

/** Reads and writes one base64url segment (`encrypted_key` is the first recipient's). */
function segmentOf(jwe: Jwe, name: Segment): { read(): unknown; write(value: string): void } {
  if (name !== 'encrypted_key') return { read: () => jwe[name], write: (value) => void (jwe[name] = value) };
  const candidate: unknown = Array.isArray(jwe.recipients) ? jwe.recipients[0] : undefined;
  const first = candidate !== null && typeof candidate === 'object' ? (candidate as Record<string, unknown>) : undefined;
  return { read: () => first?.['encrypted_key'], write: (value) => void (first && (first['encrypted_key'] = value)) };
}

function applyOp(input: string | Buffer, op: EnvelopeOp): string | Buffer {
  if (op.kind === 'bytes') {
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8');
    switch (op.change) {
      case 'truncate':
        return bytes.subarray(0, op.n % Math.max(1, bytes.length));
      case 'append':
        return Buffer.concat([bytes, Buffer.from(op.bytes)]);
      case 'wrap-array':
        return `[${bytes.toString('utf8')}]`;
      case 'random':
        return Buffer.from(op.bytes);
    }
  }
  let jwe: Jwe;
  try {
    const parsed: unknown = JSON.parse(Buffer.isBuffer(input) ? input.toString('utf8') : input);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return input;
    jwe = parsed as Jwe;
  } catch {
    return input; // an earlier op broke the JSON: the rest cannot apply
  }
  switch (op.kind) {
    case 'deep': {
      const marker = '"__deep__"';
      jwe[op.member] = '__deep__';
      return JSON.stringify(jwe).replace(marker, deepText(op.depth, op.shape));
    }
    case 'jwe':
      return JSON.stringify(applyJsonOps(jwe, op.ops)) ?? '';
    case 'header': {
      let header: unknown;
      try {
        header = JSON.parse(b64Bytes(jwe['protected']).toString('utf8'));
      } catch {
        header = {};
      }
      jwe['protected'] = Buffer.from(JSON.stringify(applyJsonOps(header, op.ops)) ?? '', 'utf8').toString('base64url');
      break;
    }
    case 'truncate': {
      const s = segmentOf(jwe, op.segment);
      const text = String(s.read() ?? '');
      s.write(text.slice(0, op.n % Math.max(1, text.length)));
      break;
    }
    case 'flip': {
      const s = segmentOf(jwe, op.segment);
      const bytes = b64Bytes(s.read());
      if (bytes.length > 0) {
        const at = op.at % bytes.length;
        bytes[at] = bytes[at]! ^ (1 << op.bit);
        s.write(bytes.toString('base64url'));
      }
      break;
    }
    case 'garble':
      segmentOf(jwe, op.segment).write(op.text);
      break;
    case 'recipients': {
      const recipients = Array.isArray(jwe.recipients) ? jwe.recipients : [];
      if (op.change === 'empty') jwe.recipients = [];
      else if (op.change === 'duplicate') jwe.recipients = [...recipients, ...recipients.map((r) => structuredClone(r))];
      else if (op.change === 'not-array') jwe.recipients = recipients[0] ?? {};
      else jwe.recipients = recipients.map((r: unknown) => (r !== null && typeof r === 'object' ? { ...r, header: undefined } : r));
      break;
    }
    case 'kid': {
      const recipients = Array.isArray(jwe.recipients) ? jwe.recipients : [];
      const first: unknown = recipients[0];
      if (first !== null && typeof first === 'object') {
        const recipient = first as { header?: unknown };
        recipient.header = { ...(recipient.header !== null && typeof recipient.header === 'object' ? recipient.header : {}), kid: op.kid };
      }
      break;
    }
  }
  return JSON.stringify(jwe);
}

/** The envelope a case describes: a valid one of `bases`, with its operations applied in order. */
export function applyEnvelopeCase(bases: readonly string[], c: EnvelopeCase): string | Buffer {
  let packed: string | Buffer = bases[c.base % bases.length]!;
  for (const op of c.ops) {
    packed = applyOp(packed, op);
    if (op.kind === 'deep') break; // the harness does not parse what it made too deep for itself
  }
  return packed;
}

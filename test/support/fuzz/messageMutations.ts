/**
 * Mutated plaintext messages that a real peer then signs and encrypts, so they pass the crypto and
 * reach the message checks, the body schemas and dispatch. The valid starting points are every
 * message type of the golden vectors (docs/protocol/vectors/families.json) that the side under
 * test receives; their headers (type, from/to, times, thid) and bodies are mutated.
 */
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { applyJsonOps, jsonOps, weirdValue, type JsonOp } from './jsonMutations.js';

/** One message the golden vectors hold, reduced to what a mutation starts from. */
export interface MessageSeed {
  type: string;
  body: Record<string, unknown>;
  thid?: string;
  pthid?: string;
  attachments?: unknown[];
}

/** Ends the relationship it arrives on: every later case would only meet relationship.cut_off. */
const ENDS_THE_RELATIONSHIP = new Set(['https://kith.invalid/protocols/relationship/1.0/terminate']);

/**
 * The vectors' messages to `recipient` ('vendor' is the company, as the vector file names it).
 * Found from the repository root, so it works from test/ and from dist/test/.
 */
export function messageSeeds(recipient: 'customer' | 'vendor'): MessageSeed[] {
  const file = JSON.parse(readFileSync(vectorsPath(), 'utf8')) as { vectors: { recipient: string; plaintext: Record<string, unknown> }[] };
  return file.vectors
    .filter((v) => v.recipient === recipient && !ENDS_THE_RELATIONSHIP.has(String(v.plaintext['type'])))
    .map(({ plaintext: p }) => ({
      type: String(p['type']),
      body: p['body'] as Record<string, unknown>,
      ...(typeof p['thid'] === 'string' ? { thid: p['thid'] } : {}),
      ...(typeof p['pthid'] === 'string' ? { pthid: p['pthid'] } : {}),
      ...(Array.isArray(p['attachments']) ? { attachments: p['attachments'] } : {}),
    }));
}

/** The vector file: three levels up from test/support/fuzz, four from dist/test/support/fuzz (the bench). */
function vectorsPath(): URL {
  const candidates = ['../../../', '../../../../'].map((up) => new URL(`${up}docs/protocol/vectors/families.json`, import.meta.url));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error('docs/protocol/vectors/families.json not found');
  return found;
}

const HEADERS = ['id', 'type', 'typ', 'from', 'to', 'thid', 'pthid', 'created_time', 'expires_time', 'body', 'attachments', 'return_route', 'lang'] as const;
type Header = (typeof HEADERS)[number];

/** A plausible wrong value for a header: what a confused or hostile peer would send. */
export type HeaderOp =
  | { header: Header; change: 'delete' }
  | { header: Header; change: 'weird'; value: unknown }
  /** `to`/`from`: another party's DID (ours as sender, a stranger's, the peer's as recipient); `type`: another message type. */
  | { header: Header; change: 'swap'; pick: number }
  /** created_time / expires_time moved by this many seconds. */
  | { header: Header; change: 'shift'; seconds: number };

export interface MessageCase {
  seed: number;
  /** A fresh id per case, from the seed (else every case after the first would be a replay). */
  id: string;
  headers: HeaderOp[];
  body: JsonOp[];
  returnRoute: boolean;
  /** Sometimes the body is nesting far too deep, sent as signed text (the harness never builds it). */
  deepBody?: { depth: number; kind: 'array' | 'object' };
}

export const messageCase: fc.Arbitrary<MessageCase> = fc.record({
  seed: fc.nat(),
  id: fc.uuid({ version: 4 }),
  // Mostly the body: header changes are refused early, body changes reach the schemas and handlers.
  headers: fc.oneof(
    { arbitrary: fc.constant<HeaderOp[]>([]), weight: 3 },
    {
      arbitrary: fc.array(
        fc.oneof(
          fc.record({ header: fc.constantFrom(...HEADERS), change: fc.constant('delete' as const) }),
          fc.record({ header: fc.constantFrom(...HEADERS), change: fc.constant('weird' as const), value: weirdValue }),
          fc.record({ header: fc.constantFrom('from' as const, 'to' as const, 'type' as const, 'thid' as const), change: fc.constant('swap' as const), pick: fc.nat() }),
          fc.record({
            header: fc.constantFrom('created_time' as const, 'expires_time' as const),
            change: fc.constant('shift' as const),
            seconds: fc.oneof(fc.integer({ min: -400, max: 400 }), fc.integer({ min: -(10 ** 10), max: 10 ** 10 })),
          }),
        ),
        { minLength: 1, maxLength: 2 },
      ),
      weight: 2,
    },
  ),
  body: jsonOps,
  returnRoute: fc.boolean(),
  deepBody: fc.option(fc.record({ depth: fc.integer({ min: 1_000, max: 50_000 }), kind: fc.constantFrom('array' as const, 'object' as const) }), { nil: undefined, freq: 30 }),
}, { requiredKeys: ['seed', 'id', 'headers', 'body', 'returnRoute'] });

export interface MessageParties {
  /** The signer's DID (the legitimate peer). */
  from: string;
  /** The DID of the agent under test. */
  to: string;
  /** Other DIDs to swap in for from/to (the agent's own as sender, a stranger's). */
  others: readonly string[];
}

/** The plaintext a case describes, built at `nowSeconds` (mutated afterwards: nothing re-validates it). */
export function buildMutatedMessage(seeds: readonly MessageSeed[], parties: MessageParties, c: MessageCase, nowSeconds: number): Record<string, unknown> {
  const seed = seeds[c.seed % seeds.length]!;
  const message: Record<string, unknown> = {
    id: c.id,
    type: seed.type,
    from: parties.from,
    to: [parties.to],
    created_time: nowSeconds,
    expires_time: nowSeconds + 3600,
    body: applyJsonOps(seed.body, c.body) ?? {},
    ...(seed.thid ? { thid: seed.thid } : {}),
    ...(seed.pthid ? { pthid: seed.pthid } : {}),
    ...(seed.attachments ? { attachments: structuredClone(seed.attachments) } : {}),
    ...(c.returnRoute ? { return_route: 'all' } : {}),
  };
  const dids = [parties.to, parties.from, ...parties.others];
  for (const op of c.headers) {
    switch (op.change) {
      case 'delete':
        delete message[op.header];
        break;
      case 'weird':
        message[op.header] = structuredClone(op.value);
        break;
      case 'swap':
        if (op.header === 'from') message['from'] = dids[op.pick % dids.length];
        else if (op.header === 'to') message['to'] = [[], [dids[op.pick % dids.length]], [parties.to, parties.to], dids][op.pick % 4];
        else if (op.header === 'type') message['type'] = seeds[op.pick % seeds.length]!.type.replace(/\/(\d)\.0\//, op.pick % 2 === 0 ? '/$1.0/' : '/$1.9/');
        else message['thid'] = seeds[op.pick % seeds.length]!.thid ?? c.id;
        break;
      case 'shift':
        message[op.header] = nowSeconds + op.seconds;
        break;
    }
  }
  return message;
}

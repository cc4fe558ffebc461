import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DidError, TermsError, type KithErrorCode, type KithErrorOptions } from '../../core/errors.js';
import { findKey } from '../did/keysFromDocument.js';
import { createDidResolver } from '../did/resolver.js';
import { didOf, type DidResolver, type ResolvedKey } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { retentionSchema } from '../families/disclose.js';
import { didSchema, didUrlSchema, parseDetached, signDetached, verifyDetached } from './detachedJws.js';

/*
 * Personal terms after IEEE 7012-2025 ("MyTerms"): the person proffers one agreement from a
 * roster a neutral party publishes; the company accepts it or counters once with another agreement
 * of the same roster. This module is the roster: a signed, versioned list of agreements, each a
 * human text (pinned by its SHA-256) plus the machine-readable obligations both agents enforce.
 * Format: docs/protocol/terms-records.md. Why JCS + detached JWS: docs/decisions/0010.
 */

export type TermsCode = Extract<KithErrorCode, `terms.${string}`>;

export function termsError(code: TermsCode, message: string, options: KithErrorOptions = {}): TermsError {
  return new TermsError(code, message, options);
}

/** Every roster and agreement id lives under this base until the project owns a domain (decision 0003). */
export const TERMS_BASE = 'https://kith.invalid/terms/';

/**
 * The controlled vocabulary of processing purposes an agreement may allow. A company states one
 * of these for each use of her data; anything not listed by the agreement is outside its terms.
 */
export const PURPOSES = [
  'service-delivery',
  'order-fulfilment',
  'billing',
  'support',
  'legal-compliance',
  'product-improvement',
  'marketing',
] as const;
export const purposeSchema = z.enum(PURPOSES);
export type Purpose = z.infer<typeof purposeSchema>;

/** Who else may receive her data: nobody, the company's processors (GDPR art. 28) only, or anyone. */
export const SHARING_LEVELS = ['none', 'processors-only', 'allowed'] as const;
export const sharingSchema = z.enum(SHARING_LEVELS);
export type ThirdPartySharing = z.infer<typeof sharingSchema>;

export const obligationsSchema = z.strictObject({
  /** The only purposes the company may process her data for; at least one, no repeats. */
  allowedPurposes: z
    .array(purposeSchema)
    .min(1)
    .max(PURPOSES.length)
    .refine((p) => new Set(p).size === p.length, 'lists a purpose twice'),
  /** ISO 8601 duration: the longest the company may keep her data (after the relationship ends). */
  maxRetention: retentionSchema,
  thirdPartySharing: sharingSchema,
  /** May the company track her across other sites and apps? */
  crossSiteTracking: z.boolean(),
  /** Must the company hand her data back in a machine-readable form when she asks? */
  dataPortability: z.boolean(),
  /** May the company contact her only when she signalled intent (asked, ordered, opened a case)? */
  contactOnlyOnIntent: z.boolean(),
  /** Must the company delete her data when the relationship ends (then maxRetention is the deadline)? */
  deleteOnTermination: z.boolean(),
});
export type Obligations = z.infer<typeof obligationsSchema>;

/** `https://kith.invalid/terms/<segment>[/<segment>…]`, segments of unreserved URI characters. */
const termsUriSchema = z
  .string()
  .max(2000)
  .regex(/^https:\/\/kith\.invalid\/terms\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$/, `a URI under ${TERMS_BASE}`);
const httpsUrlSchema = z
  .string()
  .max(2000)
  .refine((u) => URL.canParse(u) && new URL(u).protocol === 'https:', 'an https URL');
const versionSchema = z.int().min(1);
const sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex SHA-256');

export const agreementSchema = z.strictObject({
  id: termsUriSchema,
  title: z.string().min(1).max(200),
  /** Positive integer; a changed text or changed obligations make a new version. */
  version: versionSchema,
  /** Where the human text is published. */
  textUrl: httpsUrlSchema,
  /** Lower-case hex SHA-256 of the UTF-8 bytes of the human text, exactly as published. */
  textSha256: sha256HexSchema,
  obligations: obligationsSchema,
});
export type Agreement = z.infer<typeof agreementSchema>;

export const rosterSchema = z.strictObject({
  id: termsUriSchema,
  version: versionSchema,
  /** The DID whose key signs the roster. */
  publisher: didSchema,
  /** RFC 3339, UTC. */
  issuedAt: z.iso.datetime(),
  agreements: z
    .array(agreementSchema)
    .min(1)
    .max(100)
    .refine((a) => new Set(a.map((x) => x.id)).size === a.length, 'lists an agreement id twice'),
});
export type Roster = z.infer<typeof rosterSchema>;

export const rosterSignatureSchema = z.strictObject({
  alg: z.literal('EdDSA'),
  kid: didUrlSchema,
  /** Detached compact JWS over the JCS bytes of `roster` (see detachedJws.ts). */
  jws: z.string().max(8192),
});
export const signedRosterSchema = z.strictObject({ roster: rosterSchema, signature: rosterSignatureSchema });
export type SignedRoster = z.infer<typeof signedRosterSchema>;

export interface RosterTrust {
  /** DIDs whose rosters are accepted. */
  publishers: readonly string[];
  resolver: DidResolver;
}

/**
 * The demo roster publisher: its key signed docs/terms/kith-roster-1.json. Its private key is in
 * test/fixtures/terms/roster-publisher.json, so it is a DEMO key: anyone can sign as it. A
 * deployment trusts a publisher whose key is really kept secret.
 */
export const KITH_DEMO_ROSTER_PUBLISHER =
  'did:peer:2.Ez6LSrbXfkjcUtTrd1VijYyVXG2FDLXhrbeVajp6m6Zn6wp37.Vz6MkjqoysxFz6zVFMUPyFq22Jzu9TRHxmKGQpBLWs9vJBYb9';
export const DEFAULT_ROSTER_PUBLISHERS: readonly string[] = [KITH_DEMO_ROSTER_PUBLISHER];

/** The zod issue paths (member names and indexes, never values), for error details. */
export function issuePaths(error: z.ZodError): string[] {
  return error.issues.map((issue) => issue.path.map(String).join('.') || '(root)');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Signs a roster with the publisher's key (for tests, and for the one-off writer of the bundled
 * roster). Validates the roster first.
 * @throws TermsError terms.roster_invalid if the roster breaks the schema or `signer.kid` is not a
 *   key of `roster.publisher`
 */
export function signRoster(roster: Roster, signer: SigningKey): SignedRoster {
  const parsed = rosterSchema.safeParse(roster);
  if (!parsed.success) {
    throw termsError('terms.roster_invalid', 'Roster does not match the roster schema', { details: { paths: issuePaths(parsed.error) } });
  }
  if (didOf(signer.kid) !== parsed.data.publisher) throw termsError('terms.roster_invalid', 'The signing key is not a key of the roster publisher');
  return { roster: parsed.data, signature: { alg: 'EdDSA', kid: signer.kid, jws: signDetached(parsed.data, signer) } };
}

/**
 * Verifies a signed roster (parsed JSON), fail-closed, in this order: shape (terms.roster_invalid)
 * -> the signature's kid is a key of `roster.publisher` and the JWS header names the same kid
 * (terms.roster_invalid) -> publisher trusted (terms.unknown_roster; asked before any resolution,
 * so an untrusted did:web is never fetched) -> resolve the publisher (DidError passes through) ->
 * the kid is one of its authentication keys (terms.roster_invalid) -> the Ed25519 signature over
 * the JCS bytes of `roster` (terms.roster_invalid). Returns the roster, deeply frozen.
 * @throws TermsError, or DidError from resolving the publisher
 */
export async function loadRoster(json: unknown, trust: RosterTrust): Promise<Roster> {
  const parsed = signedRosterSchema.safeParse(json);
  if (!parsed.success) {
    throw termsError('terms.roster_invalid', 'Not a signed roster', { details: { paths: issuePaths(parsed.error) } });
  }
  const { roster, signature } = parsed.data;
  if (didOf(signature.kid) !== roster.publisher) throw termsError('terms.roster_invalid', 'Roster signed by a key of another DID than its publisher');
  const jws = parseDetached(signature.jws);
  if (jws === undefined) throw termsError('terms.roster_invalid', 'Roster signature is not a detached EdDSA JWS');
  if (jws.header.kid !== signature.kid) throw termsError('terms.roster_invalid', 'Roster JWS header names another key');
  if (!trust.publishers.includes(roster.publisher)) {
    throw termsError('terms.unknown_roster', 'Roster from a publisher we do not trust', { details: { rosterId: roster.id, version: roster.version } });
  }
  const document = await trust.resolver.resolve(roster.publisher); // DidError passes through unchanged
  let key: ResolvedKey;
  try {
    key = findKey(document, signature.kid, 'authentication');
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    throw termsError('terms.roster_invalid', 'Roster kid names no authentication key of its publisher', { cause: error });
  }
  // The bytes signed are those of the roster as received: the schema is strict (no member
  // dropped or added) and has no transforms, so the parsed roster canonicalises identically.
  const input = (json as { roster: unknown }).roster;
  if (!verifyDetached(jws, input, key.jwk)) throw termsError('terms.roster_invalid', 'Roster signature does not verify');
  return deepFreeze(roster);
}

/** The last path segment of an agreement id (`…/agreements/service-only` -> `service-only`): its short name. */
export function agreementShortName(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/**
 * The agreement `id` of `roster`.
 * @throws TermsError terms.unknown_agreement
 */
export function findAgreement(roster: Roster, id: string): Agreement {
  const agreement = roster.agreements.find((a) => a.id === id);
  if (agreement === undefined) throw termsError('terms.unknown_agreement', 'No such agreement in this roster', { details: { rosterId: roster.id, version: roster.version } });
  return agreement;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
export function textSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The human text shown to her must be the one the roster pins, byte for byte.
 * @throws TermsError terms.text_mismatch
 */
export function verifyAgreementText(agreement: Agreement, text: string): void {
  if (textSha256(text) !== agreement.textSha256) {
    throw termsError('terms.text_mismatch', 'Agreement text is not the one the roster pins', { details: { agreementId: agreement.id, version: agreement.version } });
  }
}

// ---------------------------------------------------------------------------------------------
// The bundled roster: docs/terms/ mirrors https://kith.invalid/terms/

export const BUNDLED_ROSTER_PATH = 'docs/terms/kith-roster-1.json';

/**
 * The repository root. This file runs from src/protocol/terms/ (vitest, tsx) or from
 * dist/src/protocol/terms/ (the build): the root is the nearer of the two that has package.json.
 */
export function packageRoot(): URL {
  for (const up of ['../../../', '../../../../']) {
    const candidate = new URL(up, import.meta.url);
    if (existsSync(new URL('package.json', candidate))) return candidate;
  }
  throw new Error('Cannot find the package root from ' + import.meta.url);
}

/**
 * The local file of a URL under {@link TERMS_BASE}: `https://kith.invalid/terms/a/b.md` ->
 * `<root>/docs/terms/a/b.md`. Undefined for any other URL. The URL parser has already removed dot
 * segments, and every remaining segment must be plain, so the result stays inside docs/terms/.
 */
export function bundledFileOf(url: string): URL | undefined {
  if (!URL.canParse(url)) return undefined;
  const parsed = new URL(url);
  if (parsed.origin !== new URL(TERMS_BASE).origin || parsed.search !== '' || parsed.hash !== '') return undefined;
  const prefix = new URL(TERMS_BASE).pathname;
  if (!parsed.pathname.startsWith(prefix)) return undefined;
  const rest = parsed.pathname.slice(prefix.length);
  if (!/^[A-Za-z0-9_~-][A-Za-z0-9._~-]*(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*$/.test(rest)) return undefined;
  return new URL(`docs/terms/${rest}`, packageRoot());
}

export interface BundledRoster {
  roster: Roster;
  /** Agreement id -> its human text (Markdown), each checked against the roster's hash. */
  texts: ReadonlyMap<string, string>;
}

/**
 * The roster shipped with Kith (docs/terms/kith-roster-1.json), verified against
 * {@link DEFAULT_ROSTER_PUBLISHERS}, with every agreement's text read from docs/terms/ and checked.
 * @throws TermsError terms.roster_invalid (also for a textUrl outside docs/terms/),
 *   terms.unknown_roster, terms.text_mismatch; a file system error if a file is missing
 */
export async function bundledRoster(options: { resolver?: DidResolver } = {}): Promise<BundledRoster> {
  const json: unknown = JSON.parse(await readFile(new URL(BUNDLED_ROSTER_PATH, packageRoot()), 'utf8'));
  const roster = await loadRoster(json, { publishers: DEFAULT_ROSTER_PUBLISHERS, resolver: options.resolver ?? createDidResolver() });
  const texts = new Map<string, string>();
  for (const agreement of roster.agreements) {
    const file = bundledFileOf(agreement.textUrl);
    if (file === undefined) throw termsError('terms.roster_invalid', 'Bundled agreement text is not under docs/terms/', { details: { agreementId: agreement.id } });
    const text = await readFile(file, 'utf8');
    verifyAgreementText(agreement, text);
    texts.set(agreement.id, text);
  }
  return { roster, texts };
}

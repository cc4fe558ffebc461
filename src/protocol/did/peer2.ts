import { DidError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import type { KeyCurve, OkpPublicJwk } from '../keys.js';
import { decodeMultikey, encodeMultikey } from './keysFromDocument.js';
import { didCommServiceSchema, type DidDocument, type DidService, type VerificationMethod } from './types.js';

/*
 * did:peer numalgo 2 (https://identity.foundation/peer-did-method-spec/#method-2-multiple-inception-key-without-doc):
 *   did:peer:2 ( "." purpose "z" base58btc(multicodec + key) / ".S" base64url(abbreviated service JSON) )+
 * The DID is the whole document, so resolution is a pure function of the string.
 */

const PREFIX = 'did:peer:2';

export const PEER2_CONTEXT = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'] as const;

/** Purpose letter -> the verification relationship it adds to, and the only curve Kith accepts for it. */
const KEY_PURPOSES = {
  E: { list: 'keyAgreement', crv: 'X25519' },
  V: { list: 'authentication', crv: 'Ed25519' },
  A: { list: 'assertionMethod', crv: 'Ed25519' },
  // Capability invocation/delegation have no list in Kith's document type (nothing reads them), but
  // the keys still take their place in the #key-N numbering so ids match other implementations.
  I: { list: undefined, crv: 'Ed25519' },
  D: { list: undefined, crv: 'Ed25519' },
} as const satisfies Record<string, { list: 'keyAgreement' | 'authentication' | 'assertionMethod' | undefined; crv: KeyCurve }>;
type KeyPurposeLetter = keyof typeof KEY_PURPOSES;

/** The spec's common-string abbreviations, applied to key names (recursively) and to the `type` value. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  type: 't',
  DIDCommMessaging: 'dm',
  serviceEndpoint: 's',
  routingKeys: 'r',
  accept: 'a',
};
const EXPANSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ABBREVIATIONS).map(([long, short]) => [short, long]),
);

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(reason: string, element?: number): DidError {
  return new DidError('did.invalid', `Invalid did:peer:2: ${reason}`, {
    details: element === undefined ? { reason } : { reason, element },
  });
}

export interface CreatePeerDid2Input {
  /** Ed25519 signing key (purpose V). */
  authentication: OkpPublicJwk;
  /** X25519 encryption key (purpose E). */
  keyAgreement: OkpPublicJwk;
  /** DIDComm endpoint URI; omitted for an agent that cannot be reached directly. */
  serviceEndpoint?: string;
  /** Media types the endpoint accepts; defaults to `['didcomm/v2']`. */
  accept?: string[];
}

/**
 * Creates a `did:peer:2` with one X25519 key agreement key (E), one Ed25519 authentication key (V)
 * and, optionally, one DIDCommMessaging service (S), in that order, plus its resolved document.
 * @throws DidError `did.invalid` if a key has the wrong curve for its purpose.
 */
export function createPeerDid2(input: CreatePeerDid2Input): { did: string; document: DidDocument } {
  if (input.keyAgreement.crv !== 'X25519') throw invalid('keyAgreement key must be X25519');
  if (input.authentication.crv !== 'Ed25519') throw invalid('authentication key must be Ed25519');
  let did = `${PREFIX}.E${encodeMultikey(input.keyAgreement)}.V${encodeMultikey(input.authentication)}`;
  if (input.serviceEndpoint !== undefined) {
    // The current spec nests uri/accept/routingKeys inside `s`; no `id`, so resolvers assign `#service`.
    const service = { t: 'dm', s: { uri: input.serviceEndpoint, a: input.accept ?? ['didcomm/v2'] } };
    did += `.S${Buffer.from(JSON.stringify(service), 'utf8').toString('base64url')}`;
  }
  return { did, document: resolvePeerDid2(did) };
}

/**
 * Resolves a `did:peer:2` to its DID document, per the spec's resolution rules: keys become
 * `Multikey` verification methods `#key-1`, `#key-2`… in DID order (written absolute, and with
 * `publicKeyJwk` filled in too so consumers need not decode multibase again); services are
 * expanded and get `#service`, `#service-1`… unless they carry their own id.
 * @throws DidError `did.invalid` for any malformed DID: wrong prefix, empty or unknown element,
 *   bad base58 or multicodec, a curve that does not fit the purpose, bad service base64url/JSON.
 */
export function resolvePeerDid2(did: string): DidDocument {
  if (!did.startsWith(`${PREFIX}.`)) throw invalid('must start with "did:peer:2."');
  const elements = did.slice(PREFIX.length + 1).split('.');

  const document: DidDocument = {
    '@context': [...PEER2_CONTEXT],
    id: did,
    verificationMethod: [],
    authentication: [],
    assertionMethod: [],
    keyAgreement: [],
    service: [],
  };
  let servicesWithoutId = 0;

  elements.forEach((element, index) => {
    const purpose = element.charAt(0);
    const value = element.slice(1);
    if (value === '') throw invalid('empty element', index);

    if (purpose === 'S') {
      const service = decodeService(did, value, servicesWithoutId, index);
      if (service.assignedId) servicesWithoutId += 1;
      document.service.push(service.service);
      return;
    }

    if (!Object.hasOwn(KEY_PURPOSES, purpose)) throw invalid('unknown purpose code', index);
    const { list, crv } = KEY_PURPOSES[purpose as KeyPurposeLetter];
    const jwk = decodeMultikey(value);
    if (jwk === undefined) throw invalid('key is not a multibase base58btc Ed25519/X25519 key', index);
    if (jwk.crv !== crv) throw invalid(`purpose ${purpose} needs an ${crv} key`, index);

    const id = `${did}#key-${document.verificationMethod.length + 1}`;
    const method: VerificationMethod = {
      id,
      type: 'Multikey',
      controller: did,
      publicKeyMultibase: value,
      publicKeyJwk: jwk,
    };
    document.verificationMethod.push(method);
    if (list !== undefined) document[list].push(id);
  });

  return document;
}

function decodeService(
  did: string,
  encoded: string,
  servicesWithoutId: number,
  index: number,
): { service: DidService; assignedId: boolean } {
  // Buffer's base64url decoder silently skips junk, so check the alphabet first; a length of
  // 4n+1 cannot come from any byte string.
  if (!BASE64URL.test(encoded) || encoded.length % 4 === 1) throw invalid('service is not base64url', index);
  let text: string;
  try {
    text = utf8.decode(Buffer.from(encoded, 'base64url'));
  } catch {
    throw invalid('service is not UTF-8', index);
  }
  const json = tryParseJson(text);
  if (!json.ok || !isPlainObject(json.value)) throw invalid('service is not a JSON object', index);

  const expanded = normaliseEndpoint(expand(json.value) as Record<string, unknown>);
  const ownId = expanded['id'];
  if (ownId !== undefined && typeof ownId !== 'string') throw invalid('service id is not a string', index);
  const assignedId = ownId === undefined;
  const relativeId = assignedId
    ? servicesWithoutId === 0
      ? '#service'
      : `#service-${servicesWithoutId}`
    : ownId;
  const candidate = { ...expanded, id: relativeId.startsWith('#') ? `${did}${relativeId}` : relativeId };

  const parsed = didCommServiceSchema.safeParse(candidate);
  if (!parsed.success) throw invalid('service has the wrong shape', index);
  return { service: parsed.data, assignedId };
}

/** Undoes the abbreviations: key names at every depth, plus the value of `type`. */
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (!isPlainObject(value)) return value;
  // Object.fromEntries defines own properties, so a "__proto__" key cannot reach the prototype.
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const name = EXPANSIONS[key] ?? key;
      const expandedValue = name === 'type' && typeof inner === 'string' ? (EXPANSIONS[inner] ?? inner) : expand(inner);
      return [name, expandedValue];
    }),
  );
}

/**
 * Early did:peer:2 implementations put `r` and `a` beside a string `s`
 * (`{"t":"dm","s":"https://…","r":[…],"a":[…]}`). Fold that legacy form into the current
 * `{uri, accept, routingKeys}` object so consumers see one shape.
 */
function normaliseEndpoint(service: Record<string, unknown>): Record<string, unknown> {
  const { serviceEndpoint, accept, routingKeys, ...rest } = service;
  if (service['type'] !== 'DIDCommMessaging' || typeof serviceEndpoint !== 'string') return service;
  return {
    ...rest,
    serviceEndpoint: {
      uri: serviceEndpoint,
      ...(accept === undefined ? {} : { accept }),
      ...(routingKeys === undefined ? {} : { routingKeys }),
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

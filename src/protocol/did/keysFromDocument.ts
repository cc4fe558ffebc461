import { base58btc } from 'multiformats/bases/base58';
import { DidError } from '../../core/errors.js';
import { okpPublicJwkSchema, publicJwkFromRaw, rawPublicKey, type KeyCurve, type OkpPublicJwk } from '../keys.js';
import { didOf, type DidDocument, type KeyPurpose, type ResolvedKey, type VerificationMethod } from './types.js';

/*
 * Multikey codec. The two multicodec codes Kith uses are below 0x80 << 7, so their unsigned-varint
 * forms are always exactly two bytes; hand-encoding them avoids a varint round trip on the hot path.
 *   ed25519-pub 0xed -> [0xed, 0x01]    x25519-pub 0xec -> [0xec, 0x01]
 */
const MULTICODEC_PREFIX: Readonly<Record<KeyCurve, readonly [number, number]>> = {
  Ed25519: [0xed, 0x01],
  X25519: [0xec, 0x01],
};
const RAW_KEY_LENGTH = 32;

/** The curve each purpose needs: signatures verify with Ed25519, ECDH-1PU/ES runs on X25519. */
const CURVE_FOR_PURPOSE: Readonly<Record<KeyPurpose, KeyCurve>> = {
  authentication: 'Ed25519',
  keyAgreement: 'X25519',
};

/** `z` + base58btc(multicodec prefix + raw key): the `publicKeyMultibase` form (`z6Mk…`, `z6LS…`). */
export function encodeMultikey(jwk: OkpPublicJwk): string {
  const raw = rawPublicKey(jwk);
  const bytes = new Uint8Array(2 + raw.length);
  bytes.set(MULTICODEC_PREFIX[jwk.crv], 0);
  bytes.set(raw, 2);
  return base58btc.encode(bytes);
}

/**
 * Decodes a multibase base58btc Ed25519/X25519 public key. Returns undefined for anything else
 * (other bases, other codecs, wrong length) so each caller picks its own error code.
 */
export function decodeMultikey(multibase: string): OkpPublicJwk | undefined {
  if (!multibase.startsWith('z')) return undefined;
  let bytes: Uint8Array;
  try {
    bytes = base58btc.decode(multibase);
  } catch {
    return undefined;
  }
  if (bytes.length !== 2 + RAW_KEY_LENGTH) return undefined;
  for (const crv of ['Ed25519', 'X25519'] as const) {
    const [a, b] = MULTICODEC_PREFIX[crv];
    if (bytes[0] === a && bytes[1] === b) return publicJwkFromRaw(crv, bytes.subarray(2));
  }
  return undefined;
}

/** `#key-1` -> `did:…#key-1`; absolute ids pass through. */
function absolute(doc: DidDocument, id: string): string {
  return id.startsWith('#') ? `${doc.id}${id}` : id;
}

/** The public key of a verification method, or undefined if Kith cannot use it. */
function jwkOf(method: VerificationMethod): OkpPublicJwk | undefined {
  if (method.publicKeyJwk !== undefined) {
    const parsed = okpPublicJwkSchema.safeParse(method.publicKeyJwk);
    return parsed.success ? parsed.data : undefined;
  }
  // JsonWebKey2020 carries its key only as a JWK; the other three types use multibase.
  if (method.type === 'JsonWebKey2020' || method.publicKeyMultibase === undefined) return undefined;
  return decodeMultikey(method.publicKeyMultibase);
}

/**
 * The verification methods listed under `purpose`, in document order, each with its absolute id.
 * A reference to a method the document does not define is skipped: it names no key. So are other
 * DIDs' keys that the document borrows: a kid must be the DID's own, or a sender could sign as
 * did:A with a key did:A's document lists from did:B, and `skid`'s DID would no longer name the signer.
 */
function methodsFor(doc: DidDocument, purpose: KeyPurpose): Array<{ kid: string; method: VerificationMethod }> {
  const out: Array<{ kid: string; method: VerificationMethod }> = [];
  for (const entry of doc[purpose]) {
    const kid = absolute(doc, typeof entry === 'string' ? entry : entry.id);
    if (didOf(kid) !== doc.id) continue;
    const method =
      typeof entry === 'string' ? doc.verificationMethod.find((m) => absolute(doc, m.id) === kid) : entry;
    if (method !== undefined) out.push({ kid, method });
  }
  return out;
}

function usable(purpose: KeyPurpose, kid: string, method: VerificationMethod): ResolvedKey | undefined {
  const jwk = jwkOf(method);
  if (jwk === undefined || jwk.crv !== CURVE_FOR_PURPOSE[purpose]) return undefined;
  return { kid, jwk };
}

/**
 * Finds the key `kid` (absolute `did#frag` or relative `#frag`) in `doc`, and only if the document
 * authorises it for `purpose`: a key that merely exists in `verificationMethod` must not be
 * accepted for signing or encryption, or any key a DID lists could impersonate another role.
 * Requires Ed25519 for `authentication` and X25519 for `keyAgreement`.
 * @throws DidError `did.key_not_found` when the key is absent, belongs to another DID, is not listed
 *   under `purpose`, has an unusable encoding, or has the wrong curve.
 */
export function findKey(doc: DidDocument, kid: string, purpose: KeyPurpose): ResolvedKey {
  const wanted = absolute(doc, kid);
  const match = methodsFor(doc, purpose).find((m) => m.kid === wanted);
  const key = match === undefined ? undefined : usable(purpose, match.kid, match.method);
  if (key === undefined) {
    throw new DidError('did.key_not_found', `No usable ${purpose} key ${wanted} in the DID document`, {
      details: { kid: wanted, purpose },
    });
  }
  return key;
}

/**
 * Every usable key listed under `purpose`, in document order (for encrypting to all of a
 * recipient's keyAgreement keys, or trying each authentication key). Unusable entries are skipped.
 */
export function keysFor(doc: DidDocument, purpose: KeyPurpose): ResolvedKey[] {
  const out: ResolvedKey[] = [];
  for (const { kid, method } of methodsFor(doc, purpose)) {
    const key = usable(purpose, kid, method);
    if (key !== undefined) out.push(key);
  }
  return out;
}

/** The URI of the document's first DIDCommMessaging service, if it has one. */
export function didCommEndpoint(doc: DidDocument): string | undefined {
  const service = doc.service.find((s) => s.type === 'DIDCommMessaging');
  if (service === undefined) return undefined;
  return typeof service.serviceEndpoint === 'string' ? service.serviceEndpoint : service.serviceEndpoint.uri;
}

import type { KeyObject } from 'node:crypto';
import { signingKeyOf, type LocalIdentity } from '../agent/identity.js';
import { KB_JWT_TYP, PROFILE_VCT, SIGNING_ALG } from './constants.js';
import { sha256Base64url, signEd25519 } from './crypto.js';
import { disclosureError } from './errors.js';
import { issueSdJwt } from './issue.js';

export interface SelfIssuedPresentation {
  /** The company's DID: the key-binding JWT's `aud`. */
  audience: string;
  /** The request's nonce, or the message id a notice is bound to. */
  nonce: string;
  /** Epoch seconds, for both the SD-JWT and the key-binding JWT. */
  issuedAt: number;
  /** The credential type; a profile disclosure's by default (a thing registration names its own). */
  vct?: string;
}

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
/** The KB-JWT header exactly as @sd-jwt/core writes it (`typ` first, then `alg`). */
const KB_HEADER_B64 = b64json({ typ: KB_JWT_TYP, alg: SIGNING_ALG });

/**
 * The key-binding JWT over an SD-JWT presented with ALL its disclosures, in their issued order,
 * i.e. over the issued compact form itself: `sd_hash` is the SHA-256 of that string. Byte for byte
 * what `presentSdJwt(sdJwt, { disclose: <every claim> })` produces through the library (the same
 * header and payload member order, and Ed25519 is deterministic; sdjwt.test.ts compares the two),
 * without the library's decoding of what we just encoded, its async hashing and our re-parse of its
 * output: those cost more than the signature (bench/README.md, fan-out). Only for a credential
 * issued here and now, so it needs none of presentSdJwt's checks of a stored one.
 * @returns the presentation `<sdJwt><kb-jwt>` (`sdJwt` ends with `~`)
 */
export function keyBindAll(sdJwt: string, holderKey: KeyObject, options: Omit<SelfIssuedPresentation, 'vct'>): string {
  const payloadB64 = b64json({ iat: options.issuedAt, aud: options.audience, nonce: options.nonce, sd_hash: sha256Base64url(sdJwt) });
  const signingInput = `${KB_HEADER_B64}.${payloadB64}`;
  return `${sdJwt}${signingInput}.${signEd25519(holderKey, signingInput)}`;
}

/**
 * Her own fields as an SD-JWT VC issued from her pairwise DID and key-bound to that same key, with
 * every given claim disclosed: the company learns nothing that links it to another relationship.
 * The one way both a disclosure and a profile update (and their golden vectors) make it.
 * @throws DisclosureError disclosure.malformed as issueSdJwt, or for an empty audience or nonce or
 *   an issuedAt that is not whole epoch seconds (presentSdJwt's checks)
 */
export async function presentSelfIssued(identity: LocalIdentity, claims: Record<string, unknown>, options: SelfIssuedPresentation): Promise<string> {
  if (typeof options.audience !== 'string' || options.audience === '' || typeof options.nonce !== 'string' || options.nonce === '') {
    throw disclosureError('disclosure.malformed', 'A presentation needs an audience and a nonce');
  }
  const key = signingKeyOf(identity).privateKey;
  // issueSdJwt checks issuedAt (whole epoch seconds) before the KB-JWT reuses it.
  const sdJwt = await issueSdJwt({
    issuer: { did: identity.did, kid: identity.signing.kid, privateKey: key },
    holderPublicJwk: identity.signing.publicJwk,
    vct: options.vct ?? PROFILE_VCT,
    claims,
    issuedAt: options.issuedAt,
  });
  return keyBindAll(sdJwt, key, options);
}

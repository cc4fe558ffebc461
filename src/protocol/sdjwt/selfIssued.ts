import { signingKeyOf, type LocalIdentity } from '../agent/identity.js';
import { PROFILE_VCT } from './constants.js';
import { issueSdJwt } from './issue.js';
import { presentSdJwt } from './present.js';

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

/**
 * Her own fields as an SD-JWT VC issued from her pairwise DID and key-bound to that same key, with
 * every given claim disclosed: the company learns nothing that links it to another relationship.
 * The one way both a disclosure and a profile update (and their golden vectors) make it.
 */
export async function presentSelfIssued(identity: LocalIdentity, claims: Record<string, unknown>, options: SelfIssuedPresentation): Promise<string> {
  const key = signingKeyOf(identity).privateKey;
  const sdJwt = await issueSdJwt({
    issuer: { did: identity.did, kid: identity.signing.kid, privateKey: key },
    holderPublicJwk: identity.signing.publicJwk,
    vct: options.vct ?? PROFILE_VCT,
    claims,
    issuedAt: options.issuedAt,
  });
  return presentSdJwt(sdJwt, { disclose: Object.keys(claims), holderKey: key, audience: options.audience, nonce: options.nonce, issuedAt: options.issuedAt });
}

import { DidError } from '../../core/errors.js';
import { findKey } from '../did/keysFromDocument.js';
import { didOf, type DidResolver, type ResolvedKey } from '../did/types.js';
import { parseDetached, verifyDetached } from '../terms/detachedJws.js';

/** Why a signed document did not verify, for the caller to turn into its own error code. */
export type SignatureFault = 'not_jws' | 'other_signer' | 'no_key' | 'bad_signature';

export const SIGNATURE_FAULT_TEXT: Record<SignatureFault, string> = {
  not_jws: 'the signature is not a detached EdDSA JWS',
  other_signer: 'it is signed by another DID than the one it names',
  no_key: 'the signature names no authentication key of that DID',
  bad_signature: 'the signature does not verify',
};

/**
 * Checks that `did` signed exactly `payload` (its JCS form) with one of its authentication keys,
 * as a detached JWS (decision 0010): the check behind signed offers and company descriptions.
 * @returns undefined when it did, else what is wrong; DidError when the DID cannot be resolved
 */
export async function signatureFault(payload: unknown, signature: string, did: string, resolver: DidResolver): Promise<SignatureFault | undefined> {
  const jws = parseDetached(signature);
  if (jws === undefined) return 'not_jws';
  if (didOf(jws.header.kid) !== did) return 'other_signer';
  const document = await resolver.resolve(did);
  let key: ResolvedKey;
  try {
    key = findKey(document, jws.header.kid, 'authentication');
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    return 'no_key';
  }
  return verifyDetached(jws, payload, key.jwk) ? undefined : 'bad_signature';
}

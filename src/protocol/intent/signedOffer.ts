import { DidError, IntentError } from '../../core/errors.js';
import { findKey } from '../did/keysFromDocument.js';
import { didOf, type DidResolver, type ResolvedKey } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { signedOfferSchema, type Offer, type SignedOffer } from '../families/intent.js';
import { parseDetached, signDetached, verifyDetached } from '../terms/detachedJws.js';

/*
 * An offer is signed by the company as a document of its own (JCS + detached EdDSA JWS, like the
 * terms records: decision 0010), not only as part of the message that carries it: she keeps the
 * signed offer as evidence of what was offered, at what price and until when, and anyone can check
 * it later from the company's DID alone.
 */

/** The company signs its offer with its DIDComm signing key. */
export function signOffer(offer: Offer, signer: SigningKey): SignedOffer {
  return { offer, signature: signDetached(offer, signer) };
}

/**
 * Checks a signed offer: its shape, then that the company (`offer.seller`) signed exactly this
 * offer with one of its authentication keys.
 * @throws IntentError `intent.offer_invalid`, DidError from resolving the seller
 */
export async function verifySignedOffer(signed: unknown, resolver: DidResolver): Promise<SignedOffer> {
  const parsed = signedOfferSchema.safeParse(signed);
  if (!parsed.success) throw new IntentError('intent.offer_invalid', 'The offer does not have the offer shape');
  const { offer, signature } = parsed.data;
  const jws = parseDetached(signature);
  if (jws === undefined) throw new IntentError('intent.offer_invalid', 'The offer signature is not a detached EdDSA JWS');
  if (didOf(jws.header.kid) !== offer.seller) throw new IntentError('intent.offer_invalid', 'The offer is signed by another DID than its seller');
  const document = await resolver.resolve(offer.seller);
  let key: ResolvedKey;
  try {
    key = findKey(document, jws.header.kid, 'authentication');
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    throw new IntentError('intent.offer_invalid', 'The offer signature names no authentication key of the seller', { cause: error });
  }
  if (!verifyDetached(jws, offer, key.jwk)) throw new IntentError('intent.offer_invalid', 'The offer signature does not verify');
  return parsed.data;
}

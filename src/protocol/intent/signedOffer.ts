import { IntentError } from '../../core/errors.js';
import type { DidResolver } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { signedOfferSchema, type Offer, type SignedOffer } from '../families/intent.js';
import { signDetached } from '../terms/detachedJws.js';
import { SIGNATURE_FAULT_TEXT, signatureFault } from './signedDocument.js';

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
  const fault = await signatureFault(offer, signature, offer.seller, resolver);
  if (fault !== undefined) throw new IntentError('intent.offer_invalid', `The offer is refused: ${SIGNATURE_FAULT_TEXT[fault]}`);
  return parsed.data;
}

import { ThingError } from '../../core/errors.js';
import type { DidResolver } from '../did/types.js';
import type { SigningKey } from '../envelope/engine.js';
import { signedReceiptSchema, type ReceiptDocument, type SignedReceipt } from '../families/thing.js';
import { SIGNATURE_FAULT_TEXT, signatureFault } from '../intent/signedDocument.js';
import { signDetached } from '../terms/detachedJws.js';

/*
 * A seller's receipt is signed as a document of its own (JCS + detached EdDSA JWS, decision 0010),
 * not only as part of the DIDComm message that carries it: she keeps the signed receipt as proof of
 * purchase, and anyone (a repair shop, the maker, an insurer) can check it later from the seller's
 * DID alone, long after the envelope is gone (decision 0023).
 */

/** The seller signs its receipt with its DIDComm signing key. */
export function signReceipt(receipt: ReceiptDocument, signer: SigningKey): SignedReceipt {
  return { receipt, signature: signDetached(receipt, signer) };
}

/**
 * Checks a signed receipt: its shape, that it names `expectedSeller` as its seller (the company of
 * the relationship it came on), and that the seller signed exactly this receipt with one of its
 * authentication keys.
 * @throws ThingError `thing.receipt_invalid`; DidError from resolving the seller
 */
export async function verifySignedReceipt(signed: unknown, expectedSeller: string, resolver: DidResolver): Promise<SignedReceipt> {
  const parsed = signedReceiptSchema.safeParse(signed);
  if (!parsed.success) throw new ThingError('thing.receipt_invalid', 'The receipt does not have the thing record shape');
  const { receipt, signature } = parsed.data;
  if (receipt.seller !== expectedSeller) throw new ThingError('thing.receipt_invalid', 'The receipt names another seller than the company it came from');
  const fault = await signatureFault(receipt, signature, receipt.seller, resolver);
  if (fault !== undefined) throw new ThingError('thing.receipt_invalid', `The receipt is refused: ${SIGNATURE_FAULT_TEXT[fault]}`, { details: { fault } });
  return parsed.data;
}

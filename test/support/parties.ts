import type { KeyObject } from 'node:crypto';
import { agreementKeyOf, createPeerIdentity, signingKeyOf, type IdentityKey } from '../../src/protocol/agent/identity.js';
import type { DidDocument } from '../../src/protocol/did/types.js';
import type { RecipientPrivateKey, RecipientPublicKey, SigningKey } from '../../src/protocol/envelope/engine.js';
import { publicKeyObject } from '../../src/protocol/keys.js';

/** One side of an envelope test: a fresh did:peer:2 identity and its keys in every form the engines take. */
export interface Party {
  did: string;
  document: DidDocument;
  signing: IdentityKey;
  agreement: IdentityKey;
  signer: SigningKey;
  signingPublic: KeyObject;
  recipient: RecipientPublicKey;
  recipientPrivate: RecipientPrivateKey;
}

export function newParty(endpoint?: string): Party {
  const { identity, document } = createPeerIdentity(endpoint);
  return {
    did: identity.did,
    document,
    signing: identity.signing,
    agreement: identity.agreement,
    signer: signingKeyOf(identity),
    signingPublic: publicKeyObject(identity.signing.publicJwk),
    recipient: { kid: identity.agreement.kid, publicKey: publicKeyObject(identity.agreement.publicJwk) },
    recipientPrivate: agreementKeyOf(identity),
  };
}

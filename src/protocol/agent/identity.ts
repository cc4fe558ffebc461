import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { createPeerDid2 } from '../did/peer2.js';
import { keysFor } from '../did/keysFromDocument.js';
import type { DidDocument } from '../did/types.js';
import type { RecipientPrivateKey, SigningKey } from '../envelope/engine.js';
import { generateKeyPair, okpPrivateJwkSchema, okpPublicJwkSchema, privateKeyObject } from '../keys.js';

export const identityKeySchema = z.object({ kid: z.string(), privateJwk: okpPrivateJwkSchema, publicJwk: okpPublicJwkSchema });
export type IdentityKey = z.infer<typeof identityKeySchema>;

/** A DID we control with its two keys: Ed25519 to sign, X25519 to receive. Serialisable as JSON. */
export const localIdentitySchema = z.object({ did: z.string(), signing: identityKeySchema, agreement: identityKeySchema });
export type LocalIdentity = z.infer<typeof localIdentitySchema>;

/** A fresh `did:peer:2` with new keys: one per relationship, so no two companies see the same key or DID. */
export function createPeerIdentity(serviceEndpoint?: string): { identity: LocalIdentity; document: DidDocument } {
  const signing = generateKeyPair('Ed25519');
  const agreement = generateKeyPair('X25519');
  const { did, document } = createPeerDid2(
    serviceEndpoint === undefined
      ? { authentication: signing.publicJwk, keyAgreement: agreement.publicJwk }
      : { authentication: signing.publicJwk, keyAgreement: agreement.publicJwk, serviceEndpoint },
  );
  return { identity: identityFromDocument(did, document, signing, agreement), document };
}

/** Pairs generated keys with the kids their DID document gives them. */
export function identityFromDocument(
  did: string,
  document: DidDocument,
  signing: { privateJwk: IdentityKey['privateJwk']; publicJwk: IdentityKey['publicJwk'] },
  agreement: { privateJwk: IdentityKey['privateJwk']; publicJwk: IdentityKey['publicJwk'] },
): LocalIdentity {
  const signingKid = keysFor(document, 'authentication').find((k) => k.jwk.x === signing.publicJwk.x)?.kid;
  const agreementKid = keysFor(document, 'keyAgreement').find((k) => k.jwk.x === agreement.publicJwk.x)?.kid;
  if (!signingKid || !agreementKid) throw new Error('DID document does not list the generated keys');
  return { did, signing: { kid: signingKid, ...signing }, agreement: { kid: agreementKid, ...agreement } };
}

/** KeyObjects are costly to build from JWKs; identities are long-lived, so build them once. */
const keyObjects = new WeakMap<IdentityKey, KeyObject>();
function keyObjectOf(key: IdentityKey): KeyObject {
  let object = keyObjects.get(key);
  if (!object) {
    object = privateKeyObject(key.privateJwk);
    keyObjects.set(key, object);
  }
  return object;
}

export function signingKeyOf(identity: LocalIdentity): SigningKey {
  return { kid: identity.signing.kid, privateKey: keyObjectOf(identity.signing) };
}

export function agreementKeyOf(identity: LocalIdentity): RecipientPrivateKey {
  return { kid: identity.agreement.kid, privateKey: keyObjectOf(identity.agreement) };
}

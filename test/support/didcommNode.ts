import { keysFor } from '../../src/protocol/did/keysFromDocument.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import type { DidDocument } from '../../src/protocol/did/types.js';
import type { OkpPrivateJwk } from '../../src/protocol/keys.js';

/*
 * Glue for didcomm-node, the WASM build of sicpa-dlab/didcomm-rust, used by tests as an
 * independent DIDComm v2 peer: its DID resolver answers from Kith's own resolver, its secrets
 * resolver from a party's private JWKs.
 */

/**
 * Our resolved did:peer:2 document in the shape didcomm-rust deserialises (`did/did_doc.rs`):
 * `keyAgreement` and `authentication` as lists of absolute kids, every key a `JsonWebKey2020`
 * verification method with `publicKeyJwk` (it does not read `Multikey`), and DIDCommMessaging
 * services with an object `serviceEndpoint`.
 */
export function toDidcommRustDoc(document: DidDocument) {
  const agreement = keysFor(document, 'keyAgreement');
  const authentication = keysFor(document, 'authentication');
  return {
    id: document.id,
    keyAgreement: agreement.map((k) => k.kid),
    authentication: authentication.map((k) => k.kid),
    verificationMethod: [...agreement, ...authentication].map((k) => ({
      id: k.kid,
      type: 'JsonWebKey2020',
      controller: document.id,
      publicKeyJwk: { kty: k.jwk.kty, crv: k.jwk.crv, x: k.jwk.x },
    })),
    service: document.service
      .filter((s) => s.type === 'DIDCommMessaging')
      .map((s) => ({
        id: s.id,
        type: 'DIDCommMessaging',
        serviceEndpoint:
          typeof s.serviceEndpoint === 'string'
            ? { uri: s.serviceEndpoint, accept: ['didcomm/v2'], routingKeys: [] }
            : { uri: s.serviceEndpoint.uri, accept: s.serviceEndpoint.accept ?? ['didcomm/v2'], routingKeys: s.serviceEndpoint.routingKeys ?? [] },
      })),
  };
}

/** didcomm-node's DID resolver, answering from our own did:peer:2 resolver (no hand-written documents). */
export function didcommResolver() {
  const ours = createDidResolver();
  return {
    async resolve(did: string) {
      try {
        return toDidcommRustDoc(await ours.resolve(did));
      } catch {
        return null;
      }
    },
  };
}

/** didcomm-node's secrets resolver over one agent's private JWKs. */
export function didcommSecrets(keys: readonly { kid: string; privateJwk: OkpPrivateJwk }[]) {
  const secrets = new Map<string, OkpPrivateJwk>(keys.map((k) => [k.kid, k.privateJwk]));
  return {
    async get_secret(kid: string) {
      const jwk = secrets.get(kid);
      return jwk ? { id: kid, type: 'JsonWebKey2020', privateKeyJwk: { ...jwk } } : null;
    },
    async find_secrets(kids: string[]) {
      return kids.filter((kid) => secrets.has(kid));
    },
  };
}


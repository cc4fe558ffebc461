import { DidError } from '../../core/errors.js';
import { didCommEndpoint, keysFor } from '../did/keysFromDocument.js';
import type { DidResolver } from '../did/types.js';
import type { RecipientPublicKey } from '../envelope/engine.js';
import { cachedPublicKeyObject } from '../keys.js';

/** What we need to send to someone: their key-agreement key and (if any) their endpoint. */
export interface RemotePeer {
  did: string;
  agreementKey: RecipientPublicKey;
  endpoint: string | undefined;
}

/**
 * Resolves a DID to the key we encrypt to and the endpoint we post to.
 * @throws DidError `did.*`, including `did.key_not_found` when it has no key-agreement key.
 */
export async function resolvePeer(resolver: DidResolver, did: string): Promise<RemotePeer> {
  const document = await resolver.resolve(did);
  const [key] = keysFor(document, 'keyAgreement');
  if (!key) throw new DidError('did.key_not_found', 'DID has no key-agreement key', { details: { did } });
  return { did, agreementKey: { kid: key.kid, publicKey: cachedPublicKeyObject(key.jwk) }, endpoint: didCommEndpoint(document) };
}

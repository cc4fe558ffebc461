import type { DidcommMessage } from '../message.js';
import type { EncryptOptions, EnvelopeEngine, RecipientPublicKey, SigningKey } from './engine.js';
import { fastEngine } from './fastEngine.js';

export interface PackInput {
  message: DidcommMessage;
  signer: SigningKey;
  recipients: RecipientPublicKey[];
  engine?: EnvelopeEngine;
  enc?: EncryptOptions['enc'];
  fixed?: EncryptOptions['fixed'];
}

/**
 * Packs a plaintext message as DIDComm v2 "signed then anoncrypted": a JWS (EdDSA, `kid` = the
 * sender's DID URL) inside a JWE (ECDH-ES+A256KW over X25519, A256CBC-HS512 by default, the
 * content encryption the spec makes mandatory for anoncrypt).
 */
export async function packMessage(input: PackInput): Promise<string> {
  const engine = input.engine ?? fastEngine;
  const plaintext = Buffer.from(JSON.stringify(input.message), 'utf8');
  const signed = await engine.sign(plaintext, input.signer);
  const options: EncryptOptions = input.fixed
    ? { enc: input.enc ?? 'A256CBC-HS512', fixed: input.fixed }
    : { enc: input.enc ?? 'A256CBC-HS512' };
  return engine.encrypt(Buffer.from(signed, 'utf8'), input.recipients, options);
}

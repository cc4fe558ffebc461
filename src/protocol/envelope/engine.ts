import { createHash, type KeyObject } from 'node:crypto';
import type { ContentEncryption } from './joseParts.js';
import type { AnoncryptHeader } from './format.js';

/** Our Ed25519 signing key, with the DID URL others resolve it by. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** A recipient's X25519 key-agreement key (public half). */
export interface RecipientPublicKey {
  kid: string;
  publicKey: KeyObject;
}

/** One of our X25519 key-agreement keys (private half). */
export interface RecipientPrivateKey {
  kid: string;
  privateKey: KeyObject;
}

/**
 * An authcrypt sender's static X25519 key-agreement key, resolved by the receive pipeline from the
 * JWE's `skid` (a DID URL) before decryption.
 */
export interface SenderPublicKey {
  kid: string;
  publicKey: KeyObject;
}

export interface EncryptOptions {
  enc: ContentEncryption;
  /** Deterministic packing for golden vectors and differential tests only. */
  fixed?: { ephemeralPrivateKey: KeyObject; cek: Uint8Array; iv: Uint8Array };
}

/** A JWE already parsed and schema-checked by the receive pipeline. */
export interface ParsedJwe {
  protectedB64: string;
  header: AnoncryptHeader;
  encryptedKey: Uint8Array;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

export interface ParsedJws {
  payloadB64: string;
  protectedB64: string;
  signature: Uint8Array;
}

/**
 * The cryptographic half of the envelope: two interchangeable implementations, `jose` (the
 * reference) and `fast` (node:crypto, synchronous), proven equal by differential tests.
 * Decrypt and verify throw plain errors; the receive pipeline turns them into coded ones.
 * Both pack anoncrypt only; both decrypt what receive.ts accepts (format.ts ACCEPTED_ENCRYPTION):
 * what jose lacks, XC20P and ECDH-1PU authcrypt, through the shared xc20p.ts and ecdh1pu.ts.
 */
export interface EnvelopeEngine {
  readonly name: 'jose' | 'fast';
  sign(payload: Uint8Array, signer: SigningKey): Promise<string>;
  encrypt(plaintext: Uint8Array, recipients: RecipientPublicKey[], options: EncryptOptions): Promise<string>;
  /** `sender` is required for authcrypt (ECDH-1PU) and ignored for anoncrypt. */
  decrypt(jwe: ParsedJwe, recipient: RecipientPrivateKey, sender?: SenderPublicKey): Promise<Uint8Array>;
  verify(jws: ParsedJws, publicKey: KeyObject): Promise<boolean>;
}

/** DIDComm v2: `apv` is the SHA-256 of the recipients' kids, sorted and joined with '.'. */
export function computeApv(kids: string[]): Buffer {
  return createHash('sha256').update([...kids].sort().join('.')).digest();
}

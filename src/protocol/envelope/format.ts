import { z } from 'zod';
import { okpPublicJwkSchema } from '../keys.js';

/** DIDComm v2 media types (IANA-registered `typ` values of each layer). */
export const MEDIA_TYPE = {
  plain: 'application/didcomm-plain+json',
  signed: 'application/didcomm-signed+json',
  encrypted: 'application/didcomm-encrypted+json',
} as const;

/** The content encryptions Kith packs with (anoncrypt only; A256CBC-HS512 by default). */
export const SUPPORTED_CONTENT_ENCRYPTION = ['A256CBC-HS512', 'A256GCM'] as const;

/** What Kith's receive pipeline accepts, beyond what it sends (decision 0014). */
export const ACCEPTED_ENCRYPTION = {
  /** anoncrypt: Kith's own two, and XC20P (XChaCha20-Poly1305), didcomm-rust's default. */
  'ECDH-ES+A256KW': ['A256CBC-HS512', 'A256GCM', 'XC20P'],
  /**
   * authcrypt: ECDH-1PU with key wrapping needs a compactly committing AEAD whose tag feeds the
   * KDF (draft-madden-jose-ecdh-1pu-04 section 2.1), and DIDComm v2 names only A256CBC-HS512.
   */
  'ECDH-1PU+A256KW': ['A256CBC-HS512'],
} as const satisfies Readonly<Record<string, readonly string[]>>;
export type AcceptedKeyManagement = keyof typeof ACCEPTED_ENCRYPTION;

export function isAcceptedEncryption(alg: string, enc: string): alg is AcceptedKeyManagement {
  return Object.hasOwn(ACCEPTED_ENCRYPTION, alg) && (ACCEPTED_ENCRYPTION[alg as AcceptedKeyManagement] as readonly string[]).includes(enc);
}

const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/);

/** JWE General JSON Serialization (RFC 7516 section 7.2.1), as DIDComm v2 uses it. */
export const generalJweSchema = z.object({
  protected: base64url.min(1),
  recipients: z
    .array(
      z.object({
        header: z.object({ kid: z.string().min(1).max(2048) }).passthrough(),
        encrypted_key: base64url.min(1),
      }),
    )
    .min(1)
    .max(64),
  iv: base64url.min(1),
  ciphertext: base64url.min(1),
  tag: base64url.min(1),
});
export type GeneralJwe = z.infer<typeof generalJweSchema>;

/**
 * The protected header of a DIDComm JWE, anoncrypt or authcrypt. `skid` (the sender's
 * key-agreement kid, a DID URL) and `apu` (base64url of `skid`) belong to authcrypt; receive.ts
 * requires `skid` there and checks `apu` against it.
 */
export const anoncryptHeaderSchema = z
  .object({
    typ: z.literal(MEDIA_TYPE.encrypted).optional(),
    alg: z.string(),
    enc: z.string(),
    epk: okpPublicJwkSchema.refine((jwk) => jwk.crv === 'X25519', 'epk must be X25519'),
    apv: base64url.optional(),
    apu: base64url.optional(),
    skid: z.string().min(1).max(2048).optional(),
  })
  .passthrough();
export type AnoncryptHeader = z.infer<typeof anoncryptHeaderSchema>;

/** JWS General JSON Serialization (RFC 7515 section 7.2.1) with exactly one signature. */
export const generalJwsSchema = z.object({
  payload: base64url.min(1),
  signatures: z
    .array(
      z.object({
        protected: base64url.min(1),
        signature: base64url.min(1),
        header: z.object({ kid: z.string().min(1).max(2048).optional() }).passthrough().optional(),
      }),
    )
    .length(1),
});
export type GeneralJws = z.infer<typeof generalJwsSchema>;

export const jwsHeaderSchema = z
  .object({
    typ: z.literal(MEDIA_TYPE.signed).optional(),
    alg: z.string(),
    kid: z.string().min(1).max(2048).optional(),
    crit: z.never().optional(),
  })
  .passthrough();

export interface JweParts {
  protectedB64: string;
  recipients: { kid: string; encryptedKey: Uint8Array }[];
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/** Serialises a JWE in the member order of the DIDComm spec's examples, so both engines emit identical bytes. */
export function serializeGeneralJwe(parts: JweParts): string {
  return JSON.stringify({
    protected: parts.protectedB64,
    recipients: parts.recipients.map((r) => ({
      header: { kid: r.kid },
      encrypted_key: Buffer.from(r.encryptedKey).toString('base64url'),
    })),
    iv: Buffer.from(parts.iv).toString('base64url'),
    ciphertext: Buffer.from(parts.ciphertext).toString('base64url'),
    tag: Buffer.from(parts.tag).toString('base64url'),
  });
}

export function serializeGeneralJws(payloadB64: string, protectedB64: string, signatureB64: string, kid: string): string {
  return JSON.stringify({
    payload: payloadB64,
    signatures: [{ protected: protectedB64, signature: signatureB64, header: { kid } }],
  });
}

/** The protected headers we emit, with members in a fixed order (see serializeGeneralJwe). */
export const SIGNED_PROTECTED_HEADER = { typ: MEDIA_TYPE.signed, alg: 'EdDSA' } as const;

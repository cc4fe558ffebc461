import { z } from 'zod';
import { okpPublicJwkSchema, type OkpPublicJwk } from '../keys.js';

/**
 * The subset of a DID document (W3C DID Core) Kith reads: verification methods with OKP keys and
 * DIDCommMessaging services. Parsed with zod once, at resolution time.
 */
export const verificationMethodSchema = z.object({
  id: z.string(),
  type: z.enum(['Multikey', 'JsonWebKey2020', 'Ed25519VerificationKey2020', 'X25519KeyAgreementKey2020']),
  controller: z.string(),
  publicKeyMultibase: z.string().optional(),
  publicKeyJwk: okpPublicJwkSchema.optional(),
});
export type VerificationMethod = z.infer<typeof verificationMethodSchema>;

export const didCommServiceSchema = z.object({
  id: z.string(),
  type: z.string(),
  serviceEndpoint: z.union([
    z.string(),
    z.object({
      uri: z.string(),
      accept: z.array(z.string()).optional(),
      routingKeys: z.array(z.string()).optional(),
    }),
  ]),
});
export type DidService = z.infer<typeof didCommServiceSchema>;

/** Relative references (`#key-1`) in these lists are resolved against the document id. */
const verificationRelationship = z.array(z.union([z.string(), verificationMethodSchema]));

export const didDocumentSchema = z.object({
  '@context': z.union([z.string(), z.array(z.unknown())]).optional(),
  id: z.string(),
  alsoKnownAs: z.array(z.string()).optional(),
  verificationMethod: z.array(verificationMethodSchema).default([]),
  authentication: verificationRelationship.default([]),
  assertionMethod: verificationRelationship.default([]),
  keyAgreement: verificationRelationship.default([]),
  service: z.array(didCommServiceSchema).default([]),
});
export type DidDocument = z.infer<typeof didDocumentSchema>;

export type KeyPurpose = 'authentication' | 'keyAgreement';

/** A public key found in a DID document, with its absolute DID URL (the JOSE `kid`). */
export interface ResolvedKey {
  kid: string;
  jwk: OkpPublicJwk;
}

export interface DidResolver {
  /**
   * Resolves a DID to its document.
   * @throws DidError `did.invalid`, `did.unsupported_method`, `did.not_found`, `did.insecure_transport`
   */
  resolve(did: string): Promise<DidDocument>;
}

/** `did:example:123#key-1` -> `did:example:123` */
export function didOf(didUrl: string): string {
  const hash = didUrl.indexOf('#');
  return hash === -1 ? didUrl : didUrl.slice(0, hash);
}

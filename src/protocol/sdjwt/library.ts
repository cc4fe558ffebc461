import { SDJwtVcInstance, type SDJWTVCConfig } from '@sd-jwt/sd-jwt-vc';
import type { OkpPublicJwk } from '../keys.js';
import { SD_HASH_ALG, SIGNING_ALG } from './constants.js';
import { libraryHasher, saltGenerator, verifyEd25519 } from './crypto.js';
import { disclosureError, type DisclosureCode } from './errors.js';

/**
 * The one place Kith configures @sd-jwt/sd-jwt-vc. Everything cryptographic is ours (crypto.ts);
 * the library contributes the SD-JWT mechanics of presenting a stored credential (picking
 * disclosures, the KB-JWT's sd_hash) and a second, independent verification. Issuing, and
 * presenting her own self-issued claims, are done in issue.ts and selfIssued.ts on node:crypto
 * alone (the library's async steps cost more than the signatures in a fan-out); the tests hold
 * both byte for byte to what this library builds.
 */
export function kithSdJwtVc(config: SDJWTVCConfig = {}): SDJwtVcInstance {
  return new SDJwtVcInstance({
    hasher: libraryHasher,
    hashAlg: SD_HASH_ALG,
    saltGenerator,
    signAlg: SIGNING_ALG,
    kbSignAlg: SIGNING_ALG,
    // SDJwtVcInstance.verify fetches `status.status_list.uri` from the credential itself: a URL of
    // the issuer's choosing, fetched by the verifier. Kith refuses `status` while parsing; this is
    // the second lock on that door.
    statusListFetcher: () => Promise.reject(new Error('Status lists are not supported')),
    ...config,
  });
}

/** How far the library got before it threw: its messages alone do not say whose signature failed. */
type Phase = 'decoding' | 'issuer_rejected' | 'issuer_accepted' | 'key_binding';

/** Maps a library failure to our code from the phase it happened in (and, for two cases, its message). */
export function codeForLibraryFailure(phase: Phase, error: unknown): DisclosureCode {
  const message = error instanceof Error ? error.message : '';
  if (/expired|not yet valid/i.test(message)) return 'disclosure.expired';
  switch (phase) {
    case 'decoding':
      return 'disclosure.malformed';
    case 'issuer_rejected':
      return 'disclosure.signature_invalid';
    case 'issuer_accepted':
      return 'disclosure.key_binding_invalid';
    case 'key_binding':
      return /nonce/i.test(message) ? 'disclosure.nonce_mismatch' : 'disclosure.key_binding_invalid';
  }
}

export interface LibraryVerifyOptions {
  issuerJwk: OkpPublicJwk;
  holderJwk: OkpPublicJwk;
  /** Epoch seconds (the library's unit). */
  nowSeconds: number;
  skewSeconds: number;
  nonce: string;
}

/**
 * Runs the library's own SD-JWT VC verification (issuer signature, iat/nbf/exp, KB-JWT signature,
 * nonce, sd_hash) with our keys and returns the claims it reconstructed. Never lets a library
 * exception escape: each becomes a DisclosureError with the original as `cause`.
 */
export async function verifyWithLibrary(presentation: string, o: LibraryVerifyOptions): Promise<Record<string, unknown>> {
  // An empty keyBindingNonce makes the library skip key binding altogether, and still succeed.
  if (o.nonce === '') throw disclosureError('disclosure.nonce_mismatch', 'An empty nonce cannot bind a presentation');
  let phase: Phase = 'decoding';
  const instance = kithSdJwtVc({
    verifier: (data, signature) => {
      const ok = verifyEd25519(o.issuerJwk, data, signature);
      phase = ok ? 'issuer_accepted' : 'issuer_rejected';
      return ok;
    },
    kbVerifier: (data, signature) => {
      phase = 'key_binding';
      return verifyEd25519(o.holderJwk, data, signature);
    },
  });
  let payload: unknown;
  try {
    ({ payload } = await instance.verify(presentation, {
      currentDate: o.nowSeconds,
      skewSeconds: o.skewSeconds,
      keyBindingNonce: o.nonce,
    }));
  } catch (error) {
    throw disclosureError(codeForLibraryFailure(phase, error), 'The SD-JWT library rejected the presentation', { cause: error });
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw disclosureError('disclosure.malformed', 'The SD-JWT library returned no claims');
  }
  return Object.fromEntries(Object.entries(payload));
}

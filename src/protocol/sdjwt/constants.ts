/** `typ` of an SD-JWT VC's issuer-signed JWT (SD-JWT VC draft, after the `vc+sd-jwt` rename). */
export const SD_JWT_VC_TYP = 'dc+sd-jwt';

/** `typ` of a Key Binding JWT (RFC 9901 §4.3). */
export const KB_JWT_TYP = 'kb+jwt';

/** vct of the self-asserted profile SD-JWTs her agent issues from each pairwise DID. */
export const PROFILE_VCT = 'https://kith.invalid/credentials/profile/1.0';

/** Kith signs with Ed25519 only, for both the issuer JWT and the KB-JWT. */
export const SIGNING_ALG = 'EdDSA';

/** The only `_sd_alg` Kith issues or accepts (also the RFC's default when `_sd_alg` is absent). */
export const SD_HASH_ALG = 'sha-256';

/**
 * Upper bound on an SD-JWT or presentation we parse. A profile credential is a few KiB; the cap
 * keeps a hostile peer from making us hash and JSON-parse megabytes before any signature check.
 */
export const MAX_SD_JWT_CHARS = 64 * 1024;

export const DEFAULT_CLOCK_SKEW_SECONDS = 120;
export const DEFAULT_MAX_KB_AGE_SECONDS = 300;

/** Salt length in bytes: RFC 9901 §9.3 recommends at least 128 bits. */
export const SALT_BYTES = 16;

/**
 * Claim names that carry the credential's own semantics (JWT registered claims, SD-JWT VC claims,
 * SD-JWT structure). They are never user claims: issuing them as claims, or a disclosure naming
 * one, is refused, so a disclosure can never override who issued the credential or whose key it binds.
 */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'cnf',
  'vct',
  'vct#integrity',
  'status',
  '_sd',
  '_sd_alg',
  '...',
]);

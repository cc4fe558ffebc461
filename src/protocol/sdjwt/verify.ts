import { isDeepStrictEqual } from 'node:util';
import { DidError, KithError } from '../../core/errors.js';
import { findKey } from '../did/keysFromDocument.js';
import { didOf, type DidResolver } from '../did/types.js';
import type { OkpPublicJwk } from '../keys.js';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_KB_AGE_SECONDS, RESERVED_CLAIMS, SIGNING_ALG } from './constants.js';
import { sha256Base64url, verifyEd25519 } from './crypto.js';
import { disclosureError } from './errors.js';
import { verifyWithLibrary } from './library.js';
import { decodeCompactJwt, decodeDisclosures, parseSdJwt, visibleClaims, type DecodedDisclosure, type ParsedSdJwt } from './parse.js';
import { kbHeaderSchema, kbPayloadSchema, type IssuerPayload, type KbPayload } from './schemas.js';

export interface VerifyOptions {
  resolver: DidResolver;
  /** Expected KB-JWT `aud`. */
  audience: string;
  /** Expected KB-JWT `nonce`. */
  nonce: string;
  /** Epoch MILLISECONDS (Kith clocks are ms). */
  now: number;
  /** Default 120. */
  clockSkewSeconds?: number;
  /** Default 300. */
  maxKbAgeSeconds?: number;
  /** Which issuers are acceptable, by `iss` DID; false -> disclosure.untrusted_issuer (asked after the signature verified). */
  trustIssuer: (issuerDid: string) => boolean;
  /** If given, `vct` must equal it, else disclosure.malformed. */
  expectedVct?: string;
  /** Claim names the presentation may disclose; a disclosure outside it -> disclosure.not_requested. Omit = any. */
  allowedClaims?: readonly string[];
}

export interface VerifiedPresentation {
  issuer: string;
  vct: string;
  holderJwk: OkpPublicJwk;
  /** Only the claims revealed by disclosures. */
  disclosed: Record<string, unknown>;
  /** Non-SD, non-reserved claims of the issuer JWT. */
  visible: Record<string, unknown>;
  issuedAt: number;
  expiresAt?: number;
  kb: { iat: number; aud: string; nonce: string };
}

/**
 * Verifies an SD-JWT VC presentation with key binding, fail-closed, one error code per step, in
 * this order: parse (malformed) -> issuer signature (signature_invalid; DidError from resolution
 * passes through) -> issuer trust (untrusted_issuer) -> iat/nbf/exp (expired) -> vct (malformed)
 * -> disclosures (duplicate: tampered; issuer-signed but outside the profile: malformed;
 * unreferenced: tampered; outside allowedClaims: not_requested) -> KB-JWT typ/alg/signature/sd_hash/iat
 * (key_binding_invalid) -> aud (wrong_audience) -> nonce (nonce_mismatch). Then the library's own
 * verification runs over the same bytes and must agree with ours.
 * @throws DisclosureError, or DidError from resolving the issuer DID
 */
export async function verifySdJwtPresentation(presentation: string, o: VerifyOptions): Promise<VerifiedPresentation> {
  const skew = o.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxKbAge = o.maxKbAgeSeconds ?? DEFAULT_MAX_KB_AGE_SECONDS;
  const nowSeconds = Math.floor(o.now / 1000);
  // NaN compares false with everything, so a NaN clock would silently pass every time check.
  if (![nowSeconds, skew, maxKbAge].every((n) => Number.isFinite(n) && n >= 0)) {
    throw new KithError('internal', 'verifySdJwtPresentation: now, clockSkewSeconds and maxKbAgeSeconds must be finite and non-negative');
  }

  const parsed = parseSdJwt(presentation);
  const { payload } = parsed;
  const issuerJwk = await verifyIssuerSignature(parsed, o.resolver);
  if (!o.trustIssuer(payload.iss)) throw disclosureError('disclosure.untrusted_issuer', 'Credential issuer not trusted');
  checkValidityPeriod(payload, nowSeconds, skew);
  if (o.expectedVct !== undefined && payload.vct !== o.expectedVct) {
    throw disclosureError('disclosure.malformed', 'Credential of another type (vct)');
  }
  const disclosures = checkDisclosures(parsed, o.allowedClaims);
  const kb = verifyKeyBinding(parsed, nowSeconds, skew, maxKbAge);
  if (kb.aud !== o.audience) throw disclosureError('disclosure.wrong_audience', 'Presentation is for another audience');
  if (kb.nonce !== o.nonce) throw disclosureError('disclosure.nonce_mismatch', 'Presentation answers another nonce');

  const disclosed = Object.fromEntries(disclosures.map((d) => [d.name, d.value]));
  const visible = visibleClaims(payload);
  const libraryClaims = await verifyWithLibrary(presentation, {
    issuerJwk,
    holderJwk: payload.cnf.jwk,
    nowSeconds,
    skewSeconds: skew,
    nonce: o.nonce,
  });
  assertSameClaims(libraryClaims, { ...visible, ...disclosed });

  return {
    issuer: payload.iss,
    vct: payload.vct,
    holderJwk: payload.cnf.jwk,
    disclosed,
    visible,
    issuedAt: payload.iat,
    ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
    kb: { iat: kb.iat, aud: kb.aud, nonce: kb.nonce },
  };
}

/**
 * `iss` must be the DID in `kid`, and `kid` one of its authentication keys: otherwise anyone could
 * sign with their own DID's key and claim another issuer in `iss`. Returns the issuer's key.
 */
async function verifyIssuerSignature(parsed: ParsedSdJwt, resolver: DidResolver): Promise<OkpPublicJwk> {
  const { header, payload } = parsed;
  if (header.alg !== SIGNING_ALG) throw disclosureError('disclosure.signature_invalid', 'Issuer JWT alg must be EdDSA');
  if (didOf(header.kid) !== payload.iss) throw disclosureError('disclosure.signature_invalid', 'iss is not the DID of kid');
  const document = await resolver.resolve(payload.iss); // DidError passes through unchanged
  let jwk: OkpPublicJwk;
  try {
    jwk = findKey(document, header.kid, 'authentication').jwk;
  } catch (error) {
    if (!(error instanceof DidError)) throw error;
    throw disclosureError('disclosure.signature_invalid', 'kid names no authentication key of the issuer', { cause: error });
  }
  if (!verifyEd25519(jwk, parsed.signingInput, parsed.signature)) {
    throw disclosureError('disclosure.signature_invalid', 'Issuer signature does not verify');
  }
  return jwk;
}

/** exp, nbf and a future iat, each with `skew` seconds of tolerance for the issuer's clock. */
function checkValidityPeriod(payload: IssuerPayload, nowSeconds: number, skew: number): void {
  if (payload.exp !== undefined && payload.exp <= nowSeconds - skew) throw disclosureError('disclosure.expired', 'Credential expired');
  if (payload.nbf !== undefined && payload.nbf > nowSeconds + skew) throw disclosureError('disclosure.expired', 'Credential not yet valid');
  if (payload.iat > nowSeconds + skew) throw disclosureError('disclosure.expired', 'Credential issued in the future');
}

/**
 * Closes a gap in @sd-jwt/core 0.19: it ignores disclosures no digest references (they merely do
 * not appear in its claims). RFC 9901 §7.1 requires rejecting them, and so do we: a stray
 * disclosure is a claim the issuer never signed. Duplicates are refused the same way.
 */
function checkDisclosures(parsed: ParsedSdJwt, allowedClaims: readonly string[] | undefined): DecodedDisclosure[] {
  const disclosures = decodeDisclosures(parsed, { unreferenced: 'disclosure.tampered', duplicate: 'disclosure.tampered' });
  if (allowedClaims !== undefined) {
    const allowed = new Set(allowedClaims);
    const extra = disclosures.map((d) => d.name).filter((name) => !allowed.has(name));
    if (extra.length > 0) {
      throw disclosureError('disclosure.not_requested', 'Presentation discloses claims that were not requested', { details: { claims: extra } });
    }
  }
  return disclosures;
}

/**
 * The KB-JWT proves the holder of `cnf.jwk` made this presentation, now, over exactly these
 * disclosures. @sd-jwt/core 0.19 checks its signature, nonce and sd_hash but never its `iat`.
 * `aud` and `nonce` are compared by the caller, after this, each with its own code.
 */
function verifyKeyBinding(parsed: ParsedSdJwt, nowSeconds: number, skew: number, maxAge: number): KbPayload {
  if (parsed.kbJwt === undefined) kbInvalid('Presentation has no KB-JWT');
  const decoded = decodeCompactJwt(parsed.kbJwt);
  if (decoded === undefined) kbInvalid('KB-JWT is not a compact JWS');
  if (!kbHeaderSchema.safeParse(decoded.header).success) kbInvalid('KB-JWT header must be typ kb+jwt, alg EdDSA');
  const payload = kbPayloadSchema.safeParse(decoded.payload);
  if (!payload.success) kbInvalid('KB-JWT lacks iat, aud, nonce or sd_hash');
  if (!verifyEd25519(parsed.payload.cnf.jwk, decoded.signingInput, decoded.signature)) kbInvalid('KB-JWT signature does not verify with cnf.jwk');
  if (payload.data.sd_hash !== sha256Base64url(parsed.withoutKb)) kbInvalid('KB-JWT sd_hash is not over this presentation');
  if (payload.data.iat < nowSeconds - maxAge) kbInvalid('KB-JWT too old');
  if (payload.data.iat > nowSeconds + skew) kbInvalid('KB-JWT issued in the future');
  return payload.data;
}

function kbInvalid(message: string): never {
  throw disclosureError('disclosure.key_binding_invalid', message);
}

/**
 * Our claims and the library's reconstruction of the same bytes must match: two parsers reading
 * one presentation differently is how SD-JWT verifiers get fooled.
 */
function assertSameClaims(library: Record<string, unknown>, ours: Record<string, unknown>): void {
  const libraryUserClaims = Object.entries(library).filter(([name]) => !RESERVED_CLAIMS.has(name));
  const same =
    libraryUserClaims.length === Object.keys(ours).length &&
    libraryUserClaims.every(([name, value]) => Object.hasOwn(ours, name) && isDeepStrictEqual(value, ours[name]));
  if (!same) throw disclosureError('disclosure.malformed', 'The SD-JWT library reads these claims differently');
}

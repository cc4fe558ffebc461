import type { KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { didOf } from '../did/types.js';
import type { OkpPublicJwk } from '../keys.js';
import { RESERVED_CLAIMS, SALT_BYTES, SD_HASH_ALG, SD_JWT_VC_TYP, SIGNING_ALG } from './constants.js';
import { isEd25519PrivateKey, saltGenerator, sha256Base64url, signEd25519 } from './crypto.js';
import { disclosureError } from './errors.js';
import { containsSdStructure } from './parse.js';
import { ed25519PublicJwkSchema } from './schemas.js';

/** The DID that signs, the DID URL naming its key (the JWT `kid`), and that key (Ed25519). */
export interface SdJwtIssuerKey {
  did: string;
  kid: string;
  privateKey: KeyObject;
}

export interface IssueOptions {
  issuer: SdJwtIssuerKey;
  /** Ed25519; goes into `cnf.jwk`, so only its holder can present the credential. */
  holderPublicJwk: OkpPublicJwk;
  vct: string;
  /** Top-level claims. Reserved names (see RESERVED_CLAIMS) are refused with disclosure.malformed. */
  claims: Record<string, unknown>;
  /** Epoch seconds. */
  issuedAt: number;
  /** Epoch seconds. */
  expiresAt?: number;
  /** Claim names NOT made selectively disclosable (default none: every claim is an SD claim). Names absent from `claims` are ignored. */
  alwaysVisible?: string[];
}

function invalid(message: string, details?: Record<string, unknown>): never {
  throw disclosureError('disclosure.malformed', message, details === undefined ? {} : { details });
}

const isEpochSeconds = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/**
 * A claim value must survive JSON unchanged, or the holder would hold a disclosure saying something
 * other than what the caller passed (undefined, Dates, NaN, class instances all change silently).
 */
function isPlainJson(value: unknown): boolean {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return false;
  }
  return text !== undefined && isDeepStrictEqual(JSON.parse(text), value);
}

function checkClaims(claims: Record<string, unknown>): void {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) invalid('claims must be an object');
  for (const [name, value] of Object.entries(claims)) {
    if (RESERVED_CLAIMS.has(name) || name === '__proto__') invalid('Reserved claim name', { claim: name });
    if (!isPlainJson(value)) invalid('Claim value is not plain JSON', { claim: name });
    // The verifier refuses nested SD structure; a value that merely looks like it would be unpresentable.
    if (containsSdStructure(value)) invalid('Claim value contains _sd or "..." members', { claim: name });
  }
}

/**
 * Issues an SD-JWT VC (`typ` dc+sd-jwt, EdDSA, `kid` = the issuer's DID URL) binding `holderPublicJwk`.
 * Every claim not in `alwaysVisible` becomes a top-level object-property disclosure.
 * @returns the compact form `<jwt>~<disclosure>~…~` (trailing `~`, no KB-JWT)
 * @throws DisclosureError disclosure.malformed for reserved claim names, non-JSON values, a
 *   non-Ed25519 key, a `kid` outside the issuer DID, or bad times
 */
export async function issueSdJwt(o: IssueOptions): Promise<string> {
  return issueSdJwtWith(o, saltGenerator);
}

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * {@link issueSdJwt} with the salts from `salt` (tests compare it with the library given the same
 * salts). Synchronous and on node:crypto throughout: it builds exactly what @sd-jwt/sd-jwt-vc's
 * `issue` builds for a top-level frame (header {typ, kid, alg}; the payload's plain members in
 * order, then `_sd` sorted, then `_sd_alg`; each disclosure base64url(JSON [salt, name, value]) in
 * the payload's member order), which sdjwt.test.ts checks byte for byte, without the library's
 * async machinery per claim, which cost more than the signature in a fan-out (bench/README.md).
 */
export function issueSdJwtWith(o: IssueOptions, salt: (bytes: number) => string): string {
  const { issuer } = o;
  if (!issuer.kid.includes('#') || didOf(issuer.kid) !== issuer.did) invalid('kid must be a DID URL of the issuer DID');
  if (!isEd25519PrivateKey(issuer.privateKey)) invalid('Issuer key must be an Ed25519 private key');
  const holderJwk = ed25519PublicJwkSchema.safeParse(o.holderPublicJwk);
  if (!holderJwk.success) invalid('Holder key must be an Ed25519 public JWK');
  if (typeof o.vct !== 'string' || o.vct === '') invalid('vct is required');
  if (!isEpochSeconds(o.issuedAt)) invalid('issuedAt must be whole epoch seconds');
  if (o.expiresAt !== undefined && (!isEpochSeconds(o.expiresAt) || o.expiresAt <= o.issuedAt)) {
    invalid('expiresAt must be whole epoch seconds after issuedAt');
  }
  checkClaims(o.claims);

  const visible = new Set(o.alwaysVisible ?? []);
  const payload: Record<string, unknown> = {
    iss: issuer.did,
    iat: o.issuedAt,
    ...(o.expiresAt === undefined ? {} : { exp: o.expiresAt }),
    vct: o.vct,
    cnf: { jwk: { kty: holderJwk.data.kty, crv: holderJwk.data.crv, x: holderJwk.data.x } },
    ...o.claims,
  };
  const disclosable = new Set(Object.keys(o.claims).filter((name) => !visible.has(name)));
  const packed: Record<string, unknown> = {};
  const disclosures: string[] = [];
  const digests: string[] = [];
  // The payload's member order (integer-like names first, as every JS object orders them), as the library walks it.
  for (const [name, value] of Object.entries(payload)) {
    if (!disclosable.has(name)) {
      packed[name] = value;
      continue;
    }
    const disclosure = b64json([salt(SALT_BYTES), name, value]);
    disclosures.push(disclosure);
    digests.push(sha256Base64url(disclosure));
  }
  // The library sorts the digests (so their order says nothing of the claims') and, given a frame, always names _sd_alg.
  if (digests.length > 0) packed['_sd'] = digests.sort();
  packed['_sd_alg'] = SD_HASH_ALG;
  const signingInput = `${b64json({ typ: SD_JWT_VC_TYP, kid: issuer.kid, alg: SIGNING_ALG })}.${b64json(packed)}`;
  const jwt = `${signingInput}.${signEd25519(issuer.privateKey, signingInput)}`;
  return `${[jwt, ...disclosures].join('~')}~`;
}

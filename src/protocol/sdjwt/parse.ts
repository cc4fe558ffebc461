import { describeZodIssues, tryParseJson } from '../../core/json.js';
import { MAX_SD_JWT_CHARS, RESERVED_CLAIMS } from './constants.js';
import { sha256Base64url } from './crypto.js';
import { disclosureError, type DisclosureCode } from './errors.js';
import { issuerHeaderSchema, issuerPayloadSchema, objectDisclosureSchema, type IssuerHeader, type IssuerPayload } from './schemas.js';

/**
 * Strict parsing of the compact SD-JWT form `<jwt>~<disclosure>~…~<kb-jwt or empty>`. We parse
 * ourselves rather than through @sd-jwt/decode because its base64url decoder (js-base64) silently
 * skips characters outside the alphabet and its JSON.parse accepts any value, so two different
 * strings could decode to the same credential. Everything here is either exact or disclosure.malformed.
 */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const COMPACT_CHARS = /^[A-Za-z0-9_.~-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes canonical base64url (no padding, no stray bits); undefined for anything else. */
export function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** base64url -> UTF-8 -> JSON, each step strict; `{ ok: false }` on any failure. */
export function decodeBase64urlJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const bytes = decodeBase64url(text);
  if (bytes === undefined) return { ok: false };
  let json: string;
  try {
    json = utf8.decode(bytes);
  } catch {
    return { ok: false };
  }
  return tryParseJson(json);
}

export interface DecodedJwt {
  header: unknown;
  payload: unknown;
  /** `<header>.<payload>` exactly as received: what the signature covers. */
  signingInput: string;
  signature: string;
}

/** Splits and decodes a compact JWS; undefined if it is not three base64url JSON/JSON/bytes parts. */
export function decodeCompactJwt(jwt: string): DecodedJwt | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  const [encodedHeader = '', encodedPayload = '', signature = ''] = parts;
  if (signature === '' || decodeBase64url(signature) === undefined) return undefined;
  const header = decodeBase64urlJson(encodedHeader);
  const payload = decodeBase64urlJson(encodedPayload);
  if (!header.ok || !payload.ok) return undefined;
  return { header: header.value, payload: payload.value, signingInput: `${encodedHeader}.${encodedPayload}`, signature };
}

export interface EncodedDisclosure {
  encoded: string;
  /** base64url(SHA-256(ASCII(encoded))): what the issuer lists in `_sd` (RFC 9901 §4.2.3). */
  digest: string;
}

export interface ParsedSdJwt {
  header: IssuerHeader;
  payload: IssuerPayload;
  signingInput: string;
  signature: string;
  /** Still encoded: their digests are checked before their contents are trusted enough to decode. */
  disclosures: EncodedDisclosure[];
  /** The KB-JWT as received (not yet parsed: its failures have their own code), or undefined. */
  kbJwt: string | undefined;
  /** Everything up to and including the last `~`: the input of the KB-JWT's `sd_hash`. */
  withoutKb: string;
}

function malformed(message: string, details?: Record<string, unknown>): never {
  throw disclosureError('disclosure.malformed', message, details === undefined ? {} : { details });
}

/**
 * Parses an SD-JWT or SD-JWT+KB into its issuer JWT (header and payload schema-checked), its
 * encoded disclosures and its raw KB-JWT. Verifies nothing cryptographic.
 * @throws DisclosureError disclosure.malformed
 */
export function parseSdJwt(input: unknown): ParsedSdJwt {
  if (typeof input !== 'string') malformed('An SD-JWT is a string');
  if (input.length > MAX_SD_JWT_CHARS) malformed('SD-JWT too large', { limit: MAX_SD_JWT_CHARS });
  if (!COMPACT_CHARS.test(input)) malformed('SD-JWT contains characters outside base64url, "." and "~"');
  const parts = input.split('~');
  if (parts.length < 2) malformed('Not an SD-JWT: no "~" separator');
  const jwt = parts[0] ?? '';
  const kbJwt = parts[parts.length - 1] ?? '';
  const encodedDisclosures = parts.slice(1, -1);
  if (encodedDisclosures.some((d) => d === '' || d.includes('.'))) malformed('Empty or non-base64url disclosure');

  const decoded = decodeCompactJwt(jwt);
  if (decoded === undefined) malformed('Issuer JWT is not a compact JWS');
  const header = issuerHeaderSchema.safeParse(decoded.header);
  if (!header.success) malformed('Issuer JWT header invalid', { issues: describeZodIssues(header.error) });
  const payload = issuerPayloadSchema.safeParse(decoded.payload);
  if (!payload.success) malformed('Issuer JWT payload invalid', { issues: describeZodIssues(payload.error) });
  checkPayloadProfile(payload.data);

  return {
    header: header.data,
    payload: payload.data,
    signingInput: decoded.signingInput,
    signature: decoded.signature,
    disclosures: encodedDisclosures.map((encoded) => ({ encoded, digest: sha256Base64url(encoded) })),
    kbJwt: kbJwt === '' ? undefined : kbJwt,
    withoutKb: input.slice(0, input.length - kbJwt.length),
  };
}

/**
 * Kith's SD-JWT profile: selectively disclosable claims are top-level object properties only.
 * A nested `_sd` or an array element `{"...": digest}` would be a disclosure we do not process,
 * so it would silently show up as a raw digest in "visible" claims: refuse it instead. Likewise
 * `status` (a status list we cannot check must not be accepted as "not revoked") and `__proto__`.
 */
function checkPayloadProfile(payload: IssuerPayload): void {
  if (Object.hasOwn(payload, 'status')) malformed('Status lists are not supported', { claim: 'status' });
  if (Object.hasOwn(payload, '__proto__')) malformed('Claim name __proto__ is not allowed');
  const sd = payload._sd ?? [];
  if (new Set(sd).size !== sd.length) malformed('A digest appears twice in _sd');
  for (const [name, value] of Object.entries(payload)) {
    if (name !== '_sd' && containsSdStructure(value)) malformed('Nested selective disclosure is not supported', { claim: name });
  }
}

/**
 * True if `value` holds an `_sd` member or an array element `{"...": …}` at any depth. Iterative,
 * because a 64 KiB input can nest deeper than the call stack.
 */
export function containsSdStructure(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      for (const item of next) {
        if (typeof item === 'object' && item !== null && !Array.isArray(item) && Object.hasOwn(item, '...')) return true;
        pending.push(item);
      }
    } else {
      if (Object.hasOwn(next, '_sd')) return true;
      pending.push(...Object.values(next));
    }
  }
  return false;
}

export interface DecodedDisclosure extends EncodedDisclosure {
  salt: string;
  name: string;
  value: unknown;
}

export interface DisclosureCodes {
  /** A disclosure whose digest the issuer never listed (stray, or altered in transit). */
  unreferenced: DisclosureCode;
  /** The same disclosure twice. */
  duplicate: DisclosureCode;
}

/**
 * Matches every disclosure to a top-level `_sd` digest and decodes those that match. Only
 * referenced disclosures are decoded, so bytes the issuer never signed are never parsed. The
 * referenced ones are decoded before an unreferenced one is reported: a nested disclosure (its
 * digest sits inside another disclosure's value) is then refused as outside Kith's profile
 * (malformed) rather than mistaken for a forgery.
 * @throws DisclosureError `codes.duplicate` for the same disclosure twice; disclosure.malformed for
 *   a referenced disclosure that is not `[salt, name, value]`, names a reserved claim, repeats a
 *   claim name, collides with a claim that is plain in the payload, or nests SD structure;
 *   `codes.unreferenced` for a disclosure whose digest the issuer never listed (stray, or altered)
 */
export function decodeDisclosures(parsed: ParsedSdJwt, codes: DisclosureCodes): DecodedDisclosure[] {
  const seen = new Set<string>();
  for (const d of parsed.disclosures) {
    if (seen.has(d.digest)) throw disclosureError(codes.duplicate, 'Disclosure included twice');
    seen.add(d.digest);
  }

  const referenced = new Set(parsed.payload._sd ?? []);
  const names = new Set<string>();
  const decoded = parsed.disclosures
    .filter((d) => referenced.has(d.digest))
    .map((d) => {
      const json = decodeBase64urlJson(d.encoded);
      const shape = json.ok ? objectDisclosureSchema.safeParse(json.value) : undefined;
      if (shape === undefined || !shape.success) malformed('Disclosure is not [salt, claim name, value]');
      const [salt, name, value] = shape.data;
      // RFC 9901 §7.1: a disclosed name must not be _sd or "...", nor one already in the payload.
      if (RESERVED_CLAIMS.has(name) || name === '__proto__') malformed('Disclosure names a reserved claim', { claim: name });
      if (Object.hasOwn(parsed.payload, name)) malformed('Disclosure overrides a plain claim', { claim: name });
      if (names.has(name)) malformed('Two disclosures for the same claim', { claim: name });
      if (containsSdStructure(value)) malformed('Nested selective disclosure is not supported', { claim: name });
      names.add(name);
      return { ...d, salt, name, value };
    });

  if (decoded.length !== parsed.disclosures.length) {
    throw disclosureError(codes.unreferenced, 'Disclosure not referenced by the issuer-signed JWT');
  }
  return decoded;
}

/** The payload's claims that are neither reserved nor SD structure: what every reader sees. */
export function visibleClaims(payload: IssuerPayload): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([name]) => !RESERVED_CLAIMS.has(name)));
}

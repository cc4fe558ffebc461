import canonicalize from 'canonicalize';
import { z } from 'zod';
import type { SigningKey } from '../envelope/engine.js';
import type { OkpPublicJwk } from '../keys.js';
import { signEd25519, verifyEd25519 } from '../sdjwt/crypto.js';

/**
 * The two primitives under rosters and agreement records: JCS (RFC 8785) and a detached compact
 * JWS (RFC 7515 appendix F) over the JCS bytes.
 *
 *   jws           = BASE64URL(header) ".." BASE64URL(signature)
 *   header        = JCS({"alg":"EdDSA","kid":<DID URL>})        exactly these two members
 *   signing input = BASE64URL(header) "." BASE64URL(UTF-8(JCS(payload)))
 *   signature     = Ed25519 (RFC 8037), 64 bytes
 *
 * The payload travels next to the JWS (the `roster` or `record` member), never inside it: a
 * verifier recomputes its JCS bytes, so whitespace, member order and number spelling in transit
 * cannot change what was signed.
 */

/** A DID URL naming a key: `did:<method>:<id>#<fragment>`. */
export const didUrlSchema = z.string().max(4096).regex(/^did:[a-z0-9]+:[^\s#?/]+#[^\s#]+$/, 'a DID URL (did:…#key)');
/** A DID without path, query or fragment. */
export const didSchema = z.string().max(4096).regex(/^did:[a-z0-9]+:[^\s#?/]+$/, 'a DID');

const headerSchema = z.strictObject({ alg: z.literal('EdDSA'), kid: didUrlSchema });
export type DetachedJwsHeader = z.infer<typeof headerSchema>;

/**
 * The RFC 8785 serialisation of a JSON value, as a string (UTF-8 encode it for the bytes).
 * @throws TypeError for values JSON cannot represent exactly: NaN, ±Infinity, lone surrogates,
 *   cycles, or a top level that serialises to nothing (undefined, a function)
 */
export function jcs(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new TypeError(`Not canonicalisable as JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (text === undefined) throw new TypeError('Not canonicalisable as JSON: no JSON value');
  return text;
}

function signingInput(headerSegment: string, payload: unknown): string {
  return `${headerSegment}.${Buffer.from(jcs(payload), 'utf8').toString('base64url')}`;
}

/** A detached compact JWS over JCS(payload), header {alg: EdDSA, kid: signer.kid}. */
export function signDetached(payload: unknown, signer: SigningKey): string {
  const headerSegment = Buffer.from(jcs({ alg: 'EdDSA', kid: signer.kid }), 'utf8').toString('base64url');
  return `${headerSegment}..${signEd25519(signer.privateKey, signingInput(headerSegment, payload))}`;
}

export interface ParsedDetachedJws {
  header: DetachedJwsHeader;
  headerSegment: string;
  signature: string;
}

/**
 * Splits and checks a detached compact JWS: three segments with an empty middle, a canonical
 * base64url header that is JSON with exactly `alg: "EdDSA"` and a DID URL `kid`. Returns undefined
 * for anything else, so each caller reports its own error code. The signature is not checked here.
 */
export function parseDetached(jws: string): ParsedDetachedJws | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [headerSegment, payloadSegment, signature] = parts as [string, string, string];
  if (payloadSegment !== '' || headerSegment === '' || signature === '') return undefined;
  const headerBytes = Buffer.from(headerSegment, 'base64url');
  // One header, one encoding: base64url without padding and with zero trailing bits.
  if (headerBytes.toString('base64url') !== headerSegment) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    return undefined;
  }
  const header = headerSchema.safeParse(json);
  return header.success ? { header: header.data, headerSegment, signature } : undefined;
}

/** True if `parsed` is a valid Ed25519 signature of `publicJwk` over JCS(payload); never throws. */
export function verifyDetached(parsed: ParsedDetachedJws, payload: unknown, publicJwk: OkpPublicJwk): boolean {
  let input: string;
  try {
    input = signingInput(parsed.headerSegment, payload);
  } catch {
    return false;
  }
  return verifyEd25519(publicJwk, input, parsed.signature);
}

import { decodeBase64urlJson, parseSdJwt } from './parse.js';

/**
 * An SD-JWT with the disclosures of some claims taken out, for a holder of her presentation who
 * must erase those claims (she withdrew her consent for them). What is left is still the issuer's
 * signed JWT with the remaining disclosures, so it still proves the values that stay; the KB-JWT
 * goes, because its `sd_hash` covers the disclosures as they were (RFC 9901 §4.3).
 * @returns the presentation unchanged when it discloses none of `claims`, the redacted SD-JWT
 * (`<jwt>~<disclosure>~…~`), or undefined when no disclosure is left (nothing worth keeping).
 * @throws DisclosureError disclosure.malformed for input that is not an SD-JWT
 */
export function withoutClaims(sdJwt: string, claims: readonly string[]): string | undefined {
  const parsed = parseSdJwt(sdJwt);
  const drop = new Set(claims);
  const kept = parsed.disclosures.filter(({ encoded }) => {
    const decoded = decodeBase64urlJson(encoded);
    // An object property's disclosure is [salt, name, value]; anything else is not a named claim.
    return !(decoded.ok && Array.isArray(decoded.value) && decoded.value.length === 3 && typeof decoded.value[1] === 'string' && drop.has(decoded.value[1]));
  });
  if (kept.length === parsed.disclosures.length) return sdJwt;
  if (kept.length === 0) return undefined;
  return `${parsed.signingInput}.${parsed.signature}~${kept.map((d) => d.encoded).join('~')}~`;
}

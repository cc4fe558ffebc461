import type { OkpPublicJwk } from '../keys.js';
import { decodeDisclosures, parseSdJwt, visibleClaims } from './parse.js';

export interface InspectedSdJwt {
  issuer: string;
  kid: string;
  vct: string;
  /** Every user claim: plain ones and all disclosable ones carried in this SD-JWT. */
  claims: Record<string, unknown>;
  /** Names of the claims carried as disclosures. */
  disclosable: string[];
  holderJwk: OkpPublicJwk;
  issuedAt?: number;
  expiresAt?: number;
}

/**
 * Decodes an SD-JWT (with or without KB-JWT) for her own wallet views, or to route a presentation
 * before verifying it. Verifies no signature, so it trusts nothing: disclosures the issuer did not
 * reference, and repeats, are left out rather than refused, which leaves their verdict
 * (disclosure.tampered) to verifySdJwtPresentation.
 * @throws DisclosureError disclosure.malformed
 */
export async function inspectSdJwt(sdJwt: string): Promise<InspectedSdJwt> {
  const parsed = parseSdJwt(sdJwt);
  const referenced = new Set(parsed.payload._sd ?? []);
  const signed = new Map(parsed.disclosures.filter((d) => referenced.has(d.digest)).map((d) => [d.digest, d]));
  const disclosures = decodeDisclosures({ ...parsed, disclosures: [...signed.values()] }, { unreferenced: 'disclosure.malformed', duplicate: 'disclosure.malformed' });
  const { payload } = parsed;
  return {
    issuer: payload.iss,
    kid: parsed.header.kid,
    vct: payload.vct,
    claims: { ...visibleClaims(payload), ...Object.fromEntries(disclosures.map((d) => [d.name, d.value])) },
    disclosable: disclosures.map((d) => d.name),
    holderJwk: payload.cnf.jwk,
    issuedAt: payload.iat,
    ...(payload.exp === undefined ? {} : { expiresAt: payload.exp }),
  };
}

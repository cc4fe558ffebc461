import type { KeyObject } from 'node:crypto';
import { KithError } from '../../core/errors.js';
import { isEd25519PrivateKey, publicXOf, signEd25519 } from './crypto.js';
import { disclosureError } from './errors.js';
import { kithSdJwtVc } from './library.js';
import { decodeDisclosures, parseSdJwt } from './parse.js';

export interface PresentOptions {
  /** Claim names to reveal; every other disclosure is left out. */
  disclose: string[];
  /** The Ed25519 private key matching the credential's `cnf.jwk`. */
  holderKey: KeyObject;
  /** KB-JWT `aud`: who this presentation is for. */
  audience: string;
  /** KB-JWT `nonce`: the verifier's challenge. */
  nonce: string;
  /** KB-JWT `iat`, epoch seconds. */
  issuedAt: number;
}

/** Her own stored credential failing to parse is corruption, not a verifier's complaint: always malformed. */
const OWN_CREDENTIAL = { unreferenced: 'disclosure.malformed', duplicate: 'disclosure.malformed' } as const;

/**
 * Keeps only the named claims' disclosures and appends a KB-JWT (typ kb+jwt, EdDSA) over them.
 * @throws DisclosureError disclosure.field_unavailable if a named claim is not disclosable in this
 *   SD-JWT; disclosure.malformed for an unparsable SD-JWT (or one that already carries a KB-JWT) or
 *   empty audience/nonce; disclosure.key_binding_invalid if `holderKey` is not the key in `cnf.jwk`
 */
export async function presentSdJwt(sdJwt: string, o: PresentOptions): Promise<string> {
  const parsed = parseSdJwt(sdJwt);
  if (parsed.kbJwt !== undefined) throw disclosureError('disclosure.malformed', 'Already a presentation: present from the issued SD-JWT');
  const byName = new Map(decodeDisclosures(parsed, OWN_CREDENTIAL).map((d) => [d.name, d]));

  const wanted = [...new Set(o.disclose)];
  const missing = wanted.filter((name) => !byName.has(name));
  if (missing.length > 0) {
    throw disclosureError('disclosure.field_unavailable', 'Not a disclosable claim of this credential', { details: { claims: missing } });
  }
  if (typeof o.audience !== 'string' || o.audience === '' || typeof o.nonce !== 'string' || o.nonce === '') {
    throw disclosureError('disclosure.malformed', 'A presentation needs an audience and a nonce');
  }
  if (!Number.isSafeInteger(o.issuedAt) || o.issuedAt < 0) throw disclosureError('disclosure.malformed', 'issuedAt must be whole epoch seconds');
  // Signing with another key would produce a presentation every verifier rejects; say so here.
  if (!isEd25519PrivateKey(o.holderKey) || publicXOf(o.holderKey) !== parsed.payload.cnf.jwk.x) {
    throw disclosureError('disclosure.key_binding_invalid', 'holderKey is not the key this credential is bound to');
  }

  const instance = kithSdJwtVc({ kbSigner: (data) => signEd25519(o.holderKey, data) });
  let presentation: string;
  try {
    // Always an object frame: given `undefined`, the library presents every disclosure.
    const frame = Object.fromEntries(wanted.map((name) => [name, true]));
    presentation = await instance.present(sdJwt, frame, { kb: { payload: { iat: o.issuedAt, aud: o.audience, nonce: o.nonce } } });
  } catch (error) {
    throw disclosureError('disclosure.malformed', 'The SD-JWT library could not build the presentation', { cause: error });
  }

  // What leaves her agent must be exactly what she chose: check the library's output, not its promise.
  const sent = parseSdJwt(presentation).disclosures.map((d) => d.digest).sort();
  const chosen = wanted.map((name) => byName.get(name)?.digest ?? '').sort();
  if (sent.length !== chosen.length || sent.some((digest, i) => digest !== chosen[i])) {
    throw new KithError('internal', 'Presentation does not carry exactly the chosen disclosures');
  }
  return presentation;
}

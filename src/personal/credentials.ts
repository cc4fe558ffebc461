import { randomBytes } from 'node:crypto';
import { toEpochSeconds } from '../core/clock.js';
import { DisclosureError } from '../core/errors.js';
import { generateKeyPair, privateKeyObject, type OkpPublicJwk } from '../protocol/keys.js';
import { inspectSdJwt, presentSdJwt, verifySdJwtPresentation } from '../protocol/sdjwt/index.js';
import type { AgentCore } from './core.js';

export interface CredentialView {
  id: string;
  issuer: string;
  vct: string;
  /** Claims she can disclose one by one. */
  claims: string[];
  /** When the issuer issued it and until when it holds (its iat and exp), in ms like every time in the API; null when it states none. */
  issuedAt: number | null;
  expiresAt: number | null;
  createdAt: number;
}

/** An SD-JWT's times are epoch seconds (RFC 7519); the API's are milliseconds. */
const toMs = (seconds: number | undefined): number | null => (seconds === undefined ? null : seconds * 1000);

export interface CredentialsFeature {
  /** A fresh key for an issuer to bind a credential to (one per credential: no shared holder key). */
  newHolderKey(): { keyId: string; publicJwk: OkpPublicJwk };
  /**
   * Keeps an SD-JWT VC an issuer gave her, after checking the issuer's signature and that it is
   * bound to a holder key in her vault.
   * @throws DisclosureError `disclosure.malformed`, `disclosure.signature_invalid`, `disclosure.key_binding_invalid`
   */
  add(sdJwt: string): Promise<CredentialView>;
  list(): Promise<CredentialView[]>;
}

export function createCredentialsFeature(core: AgentCore): CredentialsFeature {
  const { vault, clock, resolver } = core;

  const toView = async (id: string): Promise<CredentialView> => {
    const record = vault.credentials.get(id);
    if (!record) throw new DisclosureError('disclosure.unknown_request', 'No such credential');
    const inspected = await inspectSdJwt(record.sdJwt);
    return { id, issuer: record.issuer, vct: record.vct, claims: record.claims, issuedAt: toMs(inspected.issuedAt), expiresAt: toMs(inspected.expiresAt), createdAt: record.createdAt };
  };

  return {
    newHolderKey() {
      const pair = generateKeyPair('Ed25519');
      const record = vault.keys.insertHolderKey({ privateJwk: pair.privateJwk, publicJwk: pair.publicJwk });
      return { keyId: record.id, publicJwk: pair.publicJwk };
    },

    async add(sdJwt) {
      const inspected = await inspectSdJwt(sdJwt.trim());
      const holder = vault.keys.listHolderKeys().find((k) => k.publicJwk.x === inspected.holderJwk.x);
      if (!holder) throw new DisclosureError('disclosure.key_binding_invalid', 'This credential is not bound to a holder key of this vault (run `kith credentials key` first and give the issuer that key)');
      // Proves the whole chain once, as a verifier would: issuer signature, digests, and that her
      // holder key can sign the key binding.
      const nonce = randomBytes(16).toString('base64url');
      const issuedAt = toEpochSeconds(clock.now());
      const presentation = await presentSdJwt(sdJwt.trim(), { disclose: inspected.disclosable, holderKey: privateKeyObject(holder.privateJwk), audience: 'urn:kith:self-check', nonce, issuedAt });
      await verifySdJwtPresentation(presentation, { resolver, audience: 'urn:kith:self-check', nonce, now: clock.now(), trustIssuer: () => true });
      const record = vault.credentials.insert({ sdJwt: sdJwt.trim(), issuer: inspected.issuer, vct: inspected.vct, claims: inspected.disclosable, holderKeyId: holder.id });
      core.logger.info('credential_added', { credential: record.id, claims: inspected.disclosable.length });
      return toView(record.id);
    },

    list: () => Promise.all(vault.credentials.list().map((record) => toView(record.id))),
  };
}

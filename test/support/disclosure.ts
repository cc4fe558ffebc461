/**
 * Helpers for the disclosure tests: SD-JWTs built the way her agent builds them (or deliberately
 * not), every part of one decoded for "this value is nowhere" checks, and DIDComm messages sent
 * "as her" straight to a company's endpoint, with the company's reply opened with her keys.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';
import { systemClock, toEpochSeconds } from '../../src/core/clock.js';
import { agreementKeyOf, signingKeyOf, type LocalIdentity } from '../../src/protocol/agent/identity.js';
import { resolvePeer } from '../../src/protocol/agent/peer.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { createDidResolver } from '../../src/protocol/did/resolver.js';
import { packMessage } from '../../src/protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceivedMessage } from '../../src/protocol/envelope/receive.js';
import { fastEngine } from '../../src/protocol/envelope/fastEngine.js';
import { createMessageRegistry } from '../../src/protocol/families/index.js';
import { privateKeyObject } from '../../src/protocol/keys.js';
import type { DidcommMessage } from '../../src/protocol/message.js';
import { PROFILE_VCT, issueSdJwt, presentSdJwt } from '../../src/protocol/sdjwt/index.js';
import { postEnvelopeRaw, type HttpResult } from './agents.js';

export const resolver = createDidResolver();

export const nowSeconds = (): number => toEpochSeconds(Date.now());

/** Her signing key for one relationship, as a KeyObject. */
export function signingKeyObject(identity: LocalIdentity): KeyObject {
  return privateKeyObject(identity.signing.privateJwk);
}

/**
 * A self-issued profile SD-JWT from her pairwise DID, bound to the same key, every claim
 * disclosable: what her agent issues. `signer` replaces the key that signs (a forgery).
 */
export function selfIssue(identity: LocalIdentity, claims: Record<string, unknown>, signer: KeyObject = signingKeyObject(identity)): Promise<string> {
  return issueSdJwt({
    issuer: { did: identity.did, kid: identity.signing.kid, privateKey: signer },
    holderPublicJwk: identity.signing.publicJwk,
    vct: PROFILE_VCT,
    claims,
    issuedAt: nowSeconds(),
  });
}

/** Presents the named claims with a KB-JWT signed by her pairwise key. */
export function present(sdJwt: string, identity: LocalIdentity, disclose: string[], kb: { audience: string; nonce: string }): Promise<string> {
  return presentSdJwt(sdJwt, { disclose, holderKey: signingKeyObject(identity), audience: kb.audience, nonce: kb.nonce, issuedAt: nowSeconds() });
}

/** Issues `claims` from her DID and presents `disclose` of them, for `audience` and `nonce`. */
export async function selfPresentation(
  identity: LocalIdentity,
  claims: Record<string, unknown>,
  disclose: string[],
  kb: { audience: string; nonce: string },
): Promise<string> {
  return present(await selfIssue(identity, claims), identity, disclose, kb);
}

/** The presentation without its KB-JWT: everything up to and including the last `~`. */
export function withoutKeyBinding(presentation: string): string {
  return presentation.slice(0, presentation.lastIndexOf('~') + 1);
}

/** A KB-JWT (typ kb+jwt, EdDSA) over `withoutKb`, signed by `key`, built by hand so any key can sign. */
export function signKeyBinding(withoutKb: string, key: KeyObject, claims: { aud: string; nonce: string; iat?: number }): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ typ: 'kb+jwt', alg: 'EdDSA' });
  const payload = b64({ iat: claims.iat ?? nowSeconds(), aud: claims.aud, nonce: claims.nonce, sd_hash: createHash('sha256').update(withoutKb).digest('base64url') });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A disclosure `[salt, name, value]`, encoded as it travels. */
export function encodeDisclosure(name: string, value: unknown, salt = 'c2FsdHNhbHRzYWx0c2FsdA'): string {
  return Buffer.from(JSON.stringify([salt, name, value])).toString('base64url');
}

function decodeJsonPart(part: string): unknown {
  const text = Buffer.from(part, 'base64url').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Every part of a compact SD-JWT decoded: the issuer JWT's header and payload, each disclosure,
 * and the KB-JWT's header and payload. Signatures are left out (they are bytes, not content).
 */
export function decodeSdJwtParts(sdJwt: string): unknown[] {
  const parts = sdJwt.split('~');
  const jwt = parts[0] ?? '';
  const kb = parts[parts.length - 1] ?? '';
  const disclosures = parts.slice(1, -1);
  const jwtParts = (compact: string) => compact.split('.').slice(0, 2).map(decodeJsonPart);
  return [...jwtParts(jwt), ...disclosures.map(decodeJsonPart), ...(kb === '' ? [] : jwtParts(kb))];
}

/** Signs and encrypts a message from `identity` to `toDid` (whose DID document gives the key). */
export async function packAs(identity: LocalIdentity, message: DidcommMessage): Promise<string> {
  const [to] = message.to ?? [];
  if (to === undefined) throw new Error('message has no recipient');
  const recipient = await resolvePeer(resolver, to);
  return packMessage({ message, signer: signingKeyOf(identity), recipients: [recipient.agreementKey] });
}

export interface Sent {
  message: DidcommMessage;
  response: HttpResult;
}

/** Builds, packs and POSTs one message from `identity` to a company, asking for the reply on the same response. */
export async function sendAs(
  identity: LocalIdentity,
  company: { did: string; didcommUrl: string },
  type: string,
  body: Record<string, unknown>,
  options: { id?: string; thid?: string } = {},
): Promise<Sent> {
  const message = buildMessage(
    { type, from: identity.did, to: company.did, body, returnRoute: 'all', ...(options.id ? { id: options.id } : {}), ...(options.thid ? { thid: options.thid } : {}) },
    systemClock,
  );
  const response = await postEnvelopeRaw(company.didcommUrl, await packAs(identity, message));
  return { message, response };
}

/** Opens a company's packed reply with her keys (the full receive pipeline: decrypt, verify, schema). */
export function openReply(packed: string, identity: LocalIdentity): Promise<ReceivedMessage> {
  return receiveMessage(packed, {
    maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
    engine: fastEngine,
    resolver,
    registry: createMessageRegistry(),
    clock: systemClock,
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    findRecipientKey: (kid) => (kid === identity.agreement.kid ? agreementKeyOf(identity) : undefined),
    hasSeen: () => false,
  });
}

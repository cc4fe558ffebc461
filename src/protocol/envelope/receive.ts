import type { Clock } from '../../core/clock.js';
import { EnvelopeError, MessageError } from '../../core/errors.js';
import { tryParseJson } from '../../core/json.js';
import { findKey } from '../did/keysFromDocument.js';
import { didOf, type DidResolver } from '../did/types.js';
import type { MessageRegistry } from '../families/registry.js';
import { cachedPublicKeyObject } from '../keys.js';
import { didcommMessageSchema, type TypedMessage } from '../message.js';
import { messageExpiry } from '../buildMessage.js';
import type { EnvelopeEngine, ParsedJwe, ParsedJws, RecipientPrivateKey, SenderPublicKey } from './engine.js';
import { ECDH_1PU_A256KW } from './ecdh1pu.js';
import { anoncryptHeaderSchema, isAcceptedEncryption, generalJweSchema, generalJwsSchema, jwsHeaderSchema } from './format.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ReceiveContext {
  maxBytes: number;
  engine: EnvelopeEngine;
  resolver: DidResolver;
  registry: MessageRegistry;
  clock: Clock;
  clockSkewMs: number;
  /**
   * Our private key-agreement key for a recipient `kid`, or undefined if it is not ours.
   * May throw RelationshipError `relationship.cut_off` for the key of a relationship she ended.
   */
  findRecipientKey(kid: string): RecipientPrivateKey | undefined | Promise<RecipientPrivateKey | undefined>;
  hasSeen(messageId: string): boolean | Promise<boolean>;
}

/** A verified message; `Body` is its type's body once a handler was chosen by the type (protocol/handlerTable.ts). */
export interface ReceivedMessage<Body = Record<string, unknown>> {
  message: TypedMessage<Body>;
  senderDid: string;
  signerKid: string;
  recipientDid: string;
  recipientKid: string;
  /** The inner JWS as received: kept when the message is evidence (an erasure receipt). */
  signedJws: string;
  /** For an authcrypted envelope (ECDH-1PU), the sender's key-agreement kid it was encrypted from. */
  authcryptSkid?: string;
}

function decodeB64(value: string): Buffer {
  return Buffer.from(value, 'base64url');
}

function parseJwe(text: string): { jwe: ParsedJwe; recipientKids: { kid: string; encryptedKey: Buffer }[] } {
  const json = tryParseJson(text);
  if (!json.ok) throw new EnvelopeError('envelope.malformed', 'Envelope is not JSON');
  const parsed = generalJweSchema.safeParse(json.value);
  if (!parsed.success) throw new EnvelopeError('envelope.malformed', 'Envelope is not a DIDComm JWE (General JSON)');
  const headerJson = tryParseJson(decodeB64(parsed.data.protected).toString('utf8'));
  const header = headerJson.ok ? anoncryptHeaderSchema.safeParse(headerJson.value) : undefined;
  if (!header?.success) throw new EnvelopeError('envelope.malformed', 'JWE protected header is malformed');
  if (!isAcceptedEncryption(header.data.alg, header.data.enc)) {
    throw new EnvelopeError('envelope.unsupported_algorithm', 'Unsupported JWE algorithm', {
      details: { alg: header.data.alg, enc: header.data.enc },
    });
  }
  if (header.data.alg === ECDH_1PU_A256KW) {
    // DIDComm v2 authcrypt: `skid` names the sender's key-agreement key (a DID URL) and `apu` is
    // its base64url. The KDF binds both, but a disagreement is a malformed envelope, not a puzzle.
    const { skid, apu } = header.data;
    if (skid === undefined) throw new EnvelopeError('envelope.malformed', 'Authcrypt JWE has no skid');
    if (apu !== undefined && apu !== Buffer.from(skid, 'utf8').toString('base64url')) {
      throw new EnvelopeError('envelope.malformed', 'Authcrypt JWE apu is not the base64url of its skid');
    }
  }
  return {
    jwe: {
      protectedB64: parsed.data.protected,
      header: header.data,
      encryptedKey: Buffer.alloc(0),
      iv: decodeB64(parsed.data.iv),
      ciphertext: decodeB64(parsed.data.ciphertext),
      tag: decodeB64(parsed.data.tag),
    },
    recipientKids: parsed.data.recipients.map((r) => ({ kid: r.header.kid, encryptedKey: decodeB64(r.encrypted_key) })),
  };
}

function parseJws(bytes: Uint8Array, authcrypt: boolean): { jws: ParsedJws; kid: string; payload: Buffer; text: string } {
  const text = Buffer.from(bytes).toString('utf8');
  const json = tryParseJson(text);
  const parsed = json.ok ? generalJwsSchema.safeParse(json.value) : undefined;
  if (!parsed?.success) {
    // authcrypt(plaintext) is valid DIDComm, but Kith requires a signature inside (decision 0014).
    throw new EnvelopeError(
      'envelope.signature_malformed',
      authcrypt ? 'Authcrypted payload is not a signed message: Kith requires authcrypt(signed)' : 'Decrypted payload is not a DIDComm signed message',
    );
  }
  const [signature] = parsed.data.signatures;
  if (!signature) throw new EnvelopeError('envelope.signature_malformed', 'Signed message has no signature');
  const headerJson = tryParseJson(decodeB64(signature.protected).toString('utf8'));
  const header = headerJson.ok ? jwsHeaderSchema.safeParse(headerJson.value) : undefined;
  if (!header?.success) throw new EnvelopeError('envelope.signature_malformed', 'JWS protected header is malformed');
  if (header.data.alg !== 'EdDSA' && header.data.alg !== 'Ed25519') {
    throw new EnvelopeError('envelope.unsupported_algorithm', 'Unsupported JWS algorithm', { details: { alg: header.data.alg } });
  }
  const kid = header.data.kid ?? signature.header?.kid;
  if (!kid) throw new EnvelopeError('envelope.signature_malformed', 'JWS has no kid');
  return {
    jws: { payloadB64: parsed.data.payload, protectedB64: signature.protected, signature: decodeB64(signature.signature) },
    kid,
    payload: decodeB64(parsed.data.payload),
    text,
  };
}

/**
 * The fail-closed receive pipeline, in the order of docs/architecture.md: size limit, parse JWE,
 * find our key, (authcrypt: resolve skid), decrypt, parse JWS, resolve kid, verify, (authcrypt:
 * skid's DID = signer's DID), `from` = signer, `to` includes us, expiry and clock
 * skew, replay, body schema. It only reads: recording the message id as seen is the caller's job,
 * in the same transaction as the message's effects, so a rejected message changes nothing.
 *
 * @throws EnvelopeError, DidError, MessageError, RelationshipError with one code per failure.
 */
export async function receiveMessage(input: Uint8Array | string, ctx: ReceiveContext): Promise<ReceivedMessage> {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > ctx.maxBytes) {
    throw new EnvelopeError('envelope.too_large', `Envelope of ${size} bytes exceeds the ${ctx.maxBytes}-byte limit`, {
      details: { size, limit: ctx.maxBytes },
    });
  }
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const { jwe, recipientKids } = parseJwe(text);

  let recipient: RecipientPrivateKey | undefined;
  for (const candidate of recipientKids) {
    recipient = await ctx.findRecipientKey(candidate.kid);
    if (recipient) {
      jwe.encryptedKey = candidate.encryptedKey;
      break;
    }
  }
  if (!recipient) throw new EnvelopeError('envelope.no_recipient_key', 'Envelope is not encrypted to any of our keys');

  // Authcrypt: the sender's static key, resolved from skid before decryption needs it (did.*).
  const skid = jwe.header.alg === ECDH_1PU_A256KW ? jwe.header.skid : undefined;
  let sender: SenderPublicKey | undefined;
  if (skid !== undefined) {
    const senderDocument = await ctx.resolver.resolve(didOf(skid));
    sender = { kid: skid, publicKey: cachedPublicKeyObject(findKey(senderDocument, skid, 'keyAgreement').jwk) };
  }

  let signedBytes: Uint8Array;
  try {
    signedBytes = await ctx.engine.decrypt(jwe, recipient, sender);
  } catch (cause) {
    throw new EnvelopeError('envelope.decrypt_failed', 'Envelope failed to decrypt (tampered or not for us)', { cause });
  }

  const { jws, kid: signerKid, payload, text: signedJws } = parseJws(signedBytes, skid !== undefined);
  const senderDid = didOf(signerKid);
  const document = await ctx.resolver.resolve(senderDid);
  const signingKey = findKey(document, signerKid, 'authentication');
  if (!(await ctx.engine.verify(jws, cachedPublicKeyObject(signingKey.jwk)))) {
    throw new EnvelopeError('envelope.signature_invalid', 'Signature does not verify');
  }
  // The key that authcrypted and the key that signed must belong to the same DID, or a message
  // signed by A could arrive "authenticated" as coming from B.
  if (skid !== undefined && didOf(skid) !== senderDid) {
    throw new EnvelopeError('envelope.sender_mismatch', 'The authcrypt sender (skid) is not the signer');
  }

  const plaintextJson = tryParseJson(payload.toString('utf8'));
  const parsedMessage = plaintextJson.ok ? didcommMessageSchema.safeParse(plaintextJson.value) : undefined;
  if (!parsedMessage?.success) throw new MessageError('message.malformed', 'Signed payload is not a DIDComm plaintext message');
  const message = parsedMessage.data;

  if (message.from !== senderDid) {
    throw new MessageError('message.signer_mismatch', 'The signer is not the message sender');
  }
  const recipientDid = didOf(recipient.kid);
  if (!message.to?.includes(recipientDid)) {
    throw new MessageError('message.not_addressed_to_us', 'Message `to` does not include our DID');
  }
  const now = ctx.clock.now();
  const expiresAt = messageExpiry(message);
  if (expiresAt !== undefined && expiresAt + ctx.clockSkewMs < now) {
    throw new MessageError('message.expired', 'Message has expired', { details: { expires_time: message.expires_time } });
  }
  if (message.created_time !== undefined && message.created_time * 1000 - ctx.clockSkewMs > now) {
    throw new MessageError('message.from_the_future', 'Message was created in the future', { details: { created_time: message.created_time } });
  }
  if (await ctx.hasSeen(message.id)) {
    throw new MessageError('message.replayed', 'Message id was already received', { details: { id: message.id } });
  }
  const validated = ctx.registry.validate(message);
  const received: ReceivedMessage = { message: validated, senderDid, signerKid, recipientDid, recipientKid: recipient.kid, signedJws };
  if (skid !== undefined) received.authcryptSkid = skid;
  return received;
}


import type { KeyObject } from 'node:crypto';
import { KithError, MessageError, RelationshipError, TransportError, type KithErrorCode } from '../core/errors.js';
import { nextAttemptDelay } from '../core/retry.js';
import { receiveContextOf, type AgentEnvironment } from '../protocol/agent/environment.js';
import { agreementKeyOf, signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { delayAfter, isAlreadyDelivered, postEnvelope, retryLaterMs } from '../protocol/agent/transport.js';
import { buildMessage, outgoing, seenUntil, type Outgoing } from '../protocol/buildMessage.js';
import { didOf } from '../protocol/did/types.js';
import type { RecipientPrivateKey } from '../protocol/envelope/engine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { receiveMessage, type ReceiveContext, type ReceivedMessage } from '../protocol/envelope/receive.js';
import { Pickup } from '../protocol/families/index.js';
import type { MessageDefinition, MessageRegistry } from '../protocol/families/registry.js';
import { HandlerTable } from '../protocol/handlerTable.js';
import { privateKeyObject } from '../protocol/keys.js';
import type { DidcommMessage } from '../protocol/message.js';
import type { AgentEvents } from './events.js';
import type { AnyPersonalHandler, PersonalContext, PersonalEffect } from './handlers/types.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export interface ExchangeOptions {
  /** Ask for the reply on the same HTTP response. */
  returnRoute?: boolean;
  thid?: string;
  /** A message id chosen by the caller (e.g. to bind a key-binding nonce to this very message). */
  id?: string;
  /** The replies this message may get; any other is refused before it is applied. */
  expects?: readonly Pick<MessageDefinition, 'type'>[];
  /** The error for a reply of another type (default `message.unexpected`). */
  unexpectedReply?: { code: KithErrorCode; message: string };
}

export interface SendOutcome {
  messageId: string;
  status: 'sent' | 'queued';
}

/** A verified message with its handler's checks done, ready to be applied. */
export interface CheckedMessage {
  readonly received: ReceivedMessage;
  readonly handler: AnyPersonalHandler;
  readonly checked: unknown;
  readonly inReplyTo: DidcommMessage | undefined;
}

export interface PersonalMessagingOptions extends AgentEnvironment {
  vault: Vault;
  registry: MessageRegistry;
  handlers: readonly AnyPersonalHandler[];
  /** The handlers' context; asked for per message, because it is built after the messaging. */
  context(): PersonalContext;
  events: AgentEvents;
}

/**
 * Her messaging: her pairwise identities and keys, packing, exchanges with a company, pushes she
 * receives, pickup and her outbox. Every message is applied by its handler; no feature logic here.
 */
export interface PersonalMessaging {
  /** Her pairwise DID and keys for this relationship. @throws RelationshipError `relationship.cut_off` once the keys are gone */
  identityOf(relationship: RelationshipRecord): LocalIdentity;
  /** Drops the keys kept in memory for a relationship whose keys were destroyed. */
  forget(relationshipId: string): void;
  /** Verification context for a reply to a message sent from `extra`, an identity not yet in the vault (connect). */
  receive(packed: Uint8Array | string, extra?: LocalIdentity): Promise<ReceivedMessage>;
  /** The plaintext of a message from her pairwise DID on this relationship. */
  build(relationship: RelationshipRecord, message: Outgoing, extras?: Pick<ExchangeOptions, 'returnRoute' | 'thid' | 'id'>): DidcommMessage;
  /** Signs and encrypts for the company's DID; returns the envelope and where to post it. @throws TransportError `transport.unreachable` */
  pack(identity: LocalIdentity, theirDid: string, message: DidcommMessage): Promise<{ packed: string; endpoint: string }>;
  /**
   * Sends one message and, when the company answers on the same connection, verifies the reply and
   * applies it with its handler (which matches it to this message on thid).
   */
  exchange(relationship: RelationshipRecord, message: Outgoing, options?: ExchangeOptions): Promise<ReceivedMessage | undefined>;
  /** Sends now, or keeps it in her outbox for retry when the company cannot be reached. */
  sendOrQueue(relationship: RelationshipRecord, message: DidcommMessage): Promise<SendOutcome>;
  /** The handler's checks outside the transaction. @throws MessageError `message.unexpected` for a type she does not accept */
  check(received: ReceivedMessage, inReplyTo?: DidcommMessage): Promise<CheckedMessage>;
  /**
   * The handler's effects, in one vault transaction (nested in the caller's, if any) with recording
   * the message id as seen. The message must come from the relationship's company, to the pairwise
   * DID she gave it.
   * @throws RelationshipError `relationship.unknown` | `relationship.cut_off`,
   *   MessageError `message.unexpected` | `message.replayed` | `message.not_addressed_to_us`
   */
  apply(message: CheckedMessage, options?: { expectedRelationshipId?: string }): PersonalEffect & { relationship: RelationshipRecord };
  /** After the commit: the effect's news for her UI, then the handler's follow-ups. */
  finish(message: CheckedMessage, effect: PersonalEffect & { relationship: RelationshipRecord }): Promise<void>;
  /** One message a company pushed to `<base>/didcomm/<route>`. */
  receivePushed(routeToken: string, packed: Uint8Array | string): Promise<{ reply: string | undefined }>;
  /** Fetches what companies queued (Message Pickup 3.0), one after another; an aborted signal stops before the next. */
  pickup(options?: { signal?: AbortSignal }): Promise<{ received: number; failed: number }>;
  pickupFrom(relationship: RelationshipRecord): Promise<{ received: number; failed: number }>;
  /** Retries her queued outgoing messages that are due. */
  deliverOutbox(): Promise<number>;
}

const PICKUP_BATCH = 50;
const PICKUP_MAX_ROUNDS = 20;

/**
 * Rejections that judge the message itself (forged, malformed, expired, for a closed relationship):
 * fetching it again cannot change them, so it is confirmed and dropped. Anything else is ours.
 */
function isVerdictOnMessage(code: string): boolean {
  // did.not_found is the network failing to fetch a did:web document: worth another try.
  return code !== 'did.not_found' && /^(envelope|message|did|relationship|account|thing)\./.test(code);
}

export function createPersonalMessaging(options: PersonalMessagingOptions): PersonalMessaging {
  const { vault, clock, resolver, engine, logger, events, clockSkewMs, retry } = options;
  const handlers = new HandlerTable('person', options.handlers, options.registry);
  const transport = options.fetch ? { fetch: options.fetch } : {};
  const keyObjects = new Map<string, KeyObject>();

  function privateKeyFor(kid: string): KeyObject | undefined {
    const cached = keyObjects.get(kid);
    if (cached) return cached;
    const record = vault.keys.getByKid(kid);
    if (!record) return undefined;
    const key = privateKeyObject(record.privateJwk);
    keyObjects.set(kid, key);
    return key;
  }

  function receiveContext(extra?: LocalIdentity): ReceiveContext {
    return receiveContextOf(options, options.registry, {
      findRecipientKey(kid): RecipientPrivateKey | undefined {
        if (extra && kid === extra.agreement.kid) return agreementKeyOf(extra);
        const key = privateKeyFor(kid);
        if (key) return { kid, privateKey: key };
        // Her keys for a cut-off relationship are gone; say so rather than "not for us".
        const relationship = vault.relationships.findByMyDid(didOf(kid));
        if (relationship?.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
        return undefined;
      },
      hasSeen: (id) => vault.seen.has(id),
    });
  }

  /**
   * Her identity per relationship, kept once built: decrypting two key rows and importing the keys
   * for every message cost more than signing it. A cut-off relationship's entry is dropped (its
   * keys are destroyed) and the lookup fails as before.
   */
  const identities = new Map<string, LocalIdentity>();
  function identityOf(relationship: RelationshipRecord): LocalIdentity {
    if (relationship.state === 'cut_off') {
      identities.delete(relationship.id);
    } else {
      const cached = identities.get(relationship.id);
      if (cached) return cached;
    }
    const identity = loadIdentity(relationship);
    if (relationship.state !== 'cut_off') identities.set(relationship.id, identity);
    return identity;
  }

  function loadIdentity(relationship: RelationshipRecord): LocalIdentity {
    const keys = vault.keys.listForRelationship(relationship.id);
    const signing = keys.find((k) => k.purpose === 'authentication');
    const agreement = keys.find((k) => k.purpose === 'keyAgreement');
    if (!signing || !agreement) throw new RelationshipError('relationship.cut_off', 'This relationship has no keys any more');
    return {
      did: relationship.myDid,
      signing: { kid: signing.kid, privateJwk: signing.privateJwk, publicJwk: signing.publicJwk },
      agreement: { kid: agreement.kid, privateJwk: agreement.privateJwk, publicJwk: agreement.publicJwk },
    };
  }

  async function pack(identity: LocalIdentity, theirDid: string, message: DidcommMessage): Promise<{ packed: string; endpoint: string }> {
    const peer = await resolvePeer(resolver, theirDid);
    if (!peer.endpoint) throw new TransportError('transport.unreachable', 'The company has no DIDComm endpoint');
    const packed = await packMessage({ message, signer: signingKeyOf(identity), recipients: [peer.agreementKey], engine });
    return { packed, endpoint: peer.endpoint };
  }

  function build(relationship: RelationshipRecord, message: Outgoing, extras: Pick<ExchangeOptions, 'returnRoute' | 'thid' | 'id'> = {}): DidcommMessage {
    return buildMessage(
      {
        type: message.type,
        from: relationship.myDid,
        to: relationship.theirDid,
        body: message.body,
        ...(message.attachments ? { attachments: message.attachments } : {}),
        ...(extras.returnRoute ? { returnRoute: 'all' as const } : {}),
        ...(extras.thid ? { thid: extras.thid } : {}),
        ...(extras.id ? { id: extras.id } : {}),
      },
      clock,
    );
  }

  async function check(received: ReceivedMessage, inReplyTo?: DidcommMessage): Promise<CheckedMessage> {
    const handler = handlers.get(received.message.type);
    if (!handler) throw new MessageError('message.unexpected', `The personal agent does not accept ${received.message.type}`, { details: { type: received.message.type } });
    const checked = handler.verify ? await handler.verify(received, options.context(), inReplyTo) : undefined;
    return { received, handler, checked, inReplyTo };
  }

  function apply(message: CheckedMessage, applyOptions: { expectedRelationshipId?: string } = {}): PersonalEffect & { relationship: RelationshipRecord } {
    const { received, handler } = message;
    const now = clock.now();
    return vault.transaction(() => {
      const relationship = vault.relationships.findByMyDid(received.recipientDid);
      if (!relationship || relationship.theirDid !== received.senderDid) {
        throw new RelationshipError('relationship.unknown', 'No relationship between this sender and this pairwise DID');
      }
      if (applyOptions.expectedRelationshipId !== undefined && relationship.id !== applyOptions.expectedRelationshipId) {
        throw new MessageError('message.not_addressed_to_us', 'Message arrived on another relationship’s endpoint');
      }
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      if (!vault.seen.record(received.message.id, seenUntil(received.message, now, clockSkewMs))) {
        throw new MessageError('message.replayed', 'Message id was already received', { details: { id: received.message.id } });
      }
      const effect = handler.apply({ vault, relationship, now, context: options.context(), inReplyTo: message.inReplyTo }, received, message.checked);
      return { relationship, ...(effect ?? {}) };
    });
  }

  async function finish(message: CheckedMessage, effect: PersonalEffect & { relationship: RelationshipRecord }): Promise<void> {
    if (effect.notify) events.emit(effect.notify);
    await message.handler.after?.(effect.relationship, options.context(), message.checked);
  }

  async function exchange(relationship: RelationshipRecord, outgoingMessage: Outgoing, extras: ExchangeOptions = {}): Promise<ReceivedMessage | undefined> {
    const identity = identityOf(relationship);
    const message = build(relationship, outgoingMessage, extras);
    const { packed, endpoint } = await pack(identity, relationship.theirDid, message);
    const { reply } = await postEnvelope(endpoint, packed, transport);
    if (!reply) return undefined;
    const received = await receiveMessage(reply, receiveContext());
    // A reply continues our thread: its thid is our message's thread (or the message itself).
    if ((received.message.thid ?? '') !== (message.thid ?? message.id)) throw new MessageError('message.unexpected', 'Reply belongs to another thread');
    if (extras.expects && !extras.expects.some((d) => d.type === received.message.type)) {
      const refusal = extras.unexpectedReply ?? { code: 'message.unexpected', message: `The company answered with ${received.message.type}` };
      throw new KithError(refusal.code, refusal.message, { details: { type: received.message.type } });
    }
    const checked = await check(received, message);
    const effect = apply(checked, { expectedRelationshipId: relationship.id });
    await finish(checked, effect);
    return received;
  }

  async function processPushed(packed: Uint8Array | string, expectedRelationshipId?: string): Promise<{ reply: string | undefined }> {
    const received = await receiveMessage(packed, receiveContext());
    const checked = await check(received);
    const effect = apply(checked, expectedRelationshipId ? { expectedRelationshipId } : {});
    logger.info('message_received', { type: received.message.type, relationship: effect.relationship.id });
    if (effect.notify) events.emit(effect.notify);
    events.emit({ type: 'message.received', relationshipId: effect.relationship.id, messageType: received.message.type });
    let reply: string | undefined;
    if (effect.reply) {
      const identity = identityOf(effect.relationship);
      // A problem report names the thread it is about (pthid); any other reply continues the thread.
      const thread = effect.reply.aboutThread ? { pthid: received.message.thid ?? received.message.id } : { thid: received.message.id };
      const message = buildMessage({ type: effect.reply.type, from: identity.did, to: received.senderDid, body: effect.reply.body, ...thread }, clock);
      const target = await pack(identity, received.senderDid, message);
      if (received.message.return_route === 'all') reply = target.packed;
      else void postEnvelope(target.endpoint, target.packed, transport).catch(() => undefined);
    }
    await checked.handler.after?.(effect.relationship, options.context(), checked.checked);
    return { reply };
  }

  async function pickupFrom(relationship: RelationshipRecord): Promise<{ received: number; failed: number }> {
    let received = 0;
    let failed = 0;
    let stalled = false;
    const confirm = (taken: string[]) => exchange(relationship, outgoing(Pickup.messagesReceived, { message_id_list: taken }));
    for (let round = 0; round < PICKUP_MAX_ROUNDS; round += 1) {
      const reply = await exchange(relationship, outgoing(Pickup.deliveryRequest, { limit: PICKUP_BATCH, recipient_did: relationship.myDid }), { returnRoute: true });
      if (!reply || reply.message.type !== Pickup.delivery.type) break;
      const taken: string[] = [];
      for (const attachment of reply.message.attachments ?? []) {
        const id = attachment.id;
        if (!id) continue;
        try {
          await processPushed(JSON.stringify(attachment.data.json), relationship.id);
          received += 1;
        } catch (error) {
          const code = error instanceof KithError ? error.code : 'internal';
          // Already have it (it was pushed too): confirmed below so the company drops its copy.
          if (code !== 'message.replayed') {
            failed += 1;
            logger.warn('pickup_message_rejected', { relationship: relationship.id, code });
            // A failure of ours (vault, internal) may pass: leave the message with the company.
            if (!isVerdictOnMessage(code)) {
              stalled = true;
              continue;
            }
          }
        }
        taken.push(id);
      }
      if (taken.length === 0 || stalled) {
        if (taken.length > 0) await confirm(taken);
        break;
      }
      await confirm(taken);
    }
    return { received, failed };
  }

  return {
    identityOf,
    forget(relationshipId) {
      keyObjects.clear();
      identities.delete(relationshipId);
    },
    receive: (packed, extra) => receiveMessage(packed, receiveContext(extra)),
    build,
    pack,
    exchange,
    check,
    apply,
    finish,
    pickupFrom,

    async sendOrQueue(relationship, message) {
      try {
        const { packed, endpoint } = await pack(identityOf(relationship), relationship.theirDid, message);
        await postEnvelope(endpoint, packed, transport);
        return { messageId: message.id, status: 'sent' };
      } catch (error) {
        // Unreachable, or the company said "not now" (429/503): it did not take the message, so it waits in her outbox.
        if (!(error instanceof TransportError && error.code === 'transport.unreachable') && retryLaterMs(error) === undefined) throw error;
        vault.outbox.enqueue({ relationshipId: relationship.id, messageId: message.id, plaintext: message, nextAttemptAt: clock.now() + delayAfter(error, nextAttemptDelay(0, retry)) });
        logger.info('message_queued', { relationship: relationship.id });
        return { messageId: message.id, status: 'queued' };
      }
    },

    async receivePushed(routeToken, packed) {
      const relationship = vault.relationships.findByRouteToken(routeToken);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'Unknown endpoint');
      return processPushed(packed, relationship.id);
    },

    async pickup(pickupOptions = {}) {
      let received = 0;
      let failed = 0;
      for (const relationship of vault.relationships.list()) {
        if (pickupOptions.signal?.aborted) break;
        if (relationship.state !== 'active' && relationship.state !== 'muted') continue;
        try {
          const result = await pickupFrom(relationship);
          received += result.received;
          failed += result.failed;
        } catch (error) {
          logger.info('pickup_skipped', { relationship: relationship.id, code: error instanceof KithError ? error.code : 'internal' });
        }
      }
      return { received, failed };
    },

    async deliverOutbox() {
      let delivered = 0;
      for (const item of vault.outbox.due(clock.now(), 50)) {
        const relationship = vault.relationships.get(item.relationshipId);
        if (!relationship || relationship.state === 'cut_off') {
          vault.outbox.remove(item.id);
          continue;
        }
        try {
          const { packed, endpoint } = await pack(identityOf(relationship), relationship.theirDid, item.plaintext as DidcommMessage);
          await postEnvelope(endpoint, packed, transport);
          delivered += 1;
        } catch (error) {
          if (!isAlreadyDelivered(error)) {
            vault.outbox.reschedule(item.id, clock.now() + delayAfter(error, nextAttemptDelay(item.attempts + 1, retry)), item.attempts + 1);
            continue;
          }
        }
        vault.transaction(() => {
          vault.outbox.remove(item.id);
          const sent = vault.messages.findByMessageId(item.messageId);
          if (sent) vault.messages.setStatus(sent.id, 'sent');
        });
      }
      return delivered;
    },
  };
}

import { MessageError, StoreError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { receiveContextOf, type AgentEnvironment } from '../protocol/agent/environment.js';
import type { LocalIdentity } from '../protocol/agent/identity.js';
import { agreementKeyOf, signingKeyOf } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage, seenUntil, type Outgoing } from '../protocol/buildMessage.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { receiveMessage, type ReceivedMessage } from '../protocol/envelope/receive.js';
import type { MessageRegistry } from '../protocol/families/registry.js';
import { HandlerTable } from '../protocol/handlerTable.js';
import { OutboxDelivery } from './delivery.js';
import type { CompanyContext, CompanyEffect, CompanyHandler } from './handlers/types.js';
import { liveOf } from './liveRelationship.js';
import type { CompanyRelationship, CompanyStore, OutboxItem } from './store/types.js';

export interface CompanyMessagingOptions extends AgentEnvironment {
  store: CompanyStore;
  identity: LocalIdentity;
  registry: MessageRegistry;
  handlers: readonly CompanyHandler[];
  /** The handlers' context; asked for per message, because it is built after the messaging. */
  context(): CompanyContext;
  /** Told of each queued message her agent accepted. */
  onDelivered?: (item: OutboxItem, at: number) => void;
}

/** The company's messaging: receive and dispatch, pack, queue, push. No feature logic lives here. */
export interface CompanyMessaging {
  /**
   * Receives one packed message: the fail-closed pipeline, its handler's checks, then its effects
   * in one transaction with recording its id as seen, then the reply and the handler's follow-ups.
   * @throws KithError with the code of the first check that failed; nothing is written then.
   */
  receive(packed: Uint8Array | string): Promise<{ reply: string | undefined }>;
  /** Signs and encrypts one message to her pairwise DID. */
  pack(to: string, message: Outgoing, thid?: string): Promise<{ id: string; packed: string }>;
  /** Queues a packed message in `tx` (default the store), due after `delayMs`. */
  enqueue(relationship: CompanyRelationship, message: { id: string; packed: string }, tx?: CompanyStore, delayMs?: number): Promise<void>;
  /** Pushes what waits for this relationship now; returns how many she accepted. */
  deliverQueued(relationship: CompanyRelationship): Promise<number>;
  /** Claims due outbox items (leased) and pushes each once. */
  deliverDue(): Promise<number>;
}

export function createCompanyMessaging(options: CompanyMessagingOptions): CompanyMessaging {
  const { store, identity, clock, resolver, engine, logger, clockSkewMs } = options;
  const handlers = new HandlerTable('company', options.handlers, options.registry);
  const signingKey = signingKeyOf(identity);
  const agreementKey = agreementKeyOf(identity);
  const transport = options.fetch ? { fetch: options.fetch } : {};
  const delivery = new OutboxDelivery(store, resolver, clock, logger, options.retry, options.fetch, options.onDelivered);

  const receiveContext = receiveContextOf(options, options.registry, {
    findRecipientKey: (kid) => (kid === agreementKey.kid ? agreementKey : undefined),
    hasSeen: (id) => store.hasSeenMessage(id),
  });

  async function pack(to: string, message: Outgoing, thid?: string): Promise<{ id: string; packed: string }> {
    const peer = await resolvePeer(resolver, to);
    const plaintext = buildMessage(
      { type: message.type, from: identity.did, to, body: message.body, ...(thid ? { thid } : {}), ...(message.attachments ? { attachments: message.attachments } : {}) },
      clock,
    );
    const packed = await packMessage({ message: plaintext, signer: signingKey, recipients: [peer.agreementKey], engine });
    return { id: plaintext.id, packed };
  }

  async function enqueue(relationship: CompanyRelationship, message: { id: string; packed: string }, tx: CompanyStore = store, delayMs = 0): Promise<void> {
    const now = clock.now();
    await tx.enqueueOutbox({ id: newId(), relationshipId: relationship.id, messageId: message.id, packed: message.packed, createdAt: now, nextAttemptAt: now + delayMs, attempts: 0 });
  }

  /**
   * Pushes what waits for her now, under the same lease as the workers' loop: another process
   * pushing the same relationship's queue at the same moment gets other items, or none.
   */
  function deliverQueued(relationship: CompanyRelationship): Promise<number> {
    return delivery.deliverDue(100, relationship.id);
  }

  /** One direct attempt, for a reply that cannot wait in the outbox (see CompanyEffect.replyDelivery). */
  async function pushOnce(theirDid: string, packed: string): Promise<void> {
    const peer = await resolvePeer(resolver, theirDid);
    if (peer.endpoint) await postEnvelope(peer.endpoint, packed, transport).catch(() => undefined);
  }

  /**
   * The handler's effects, atomically with recording the message id as seen: a message that fails
   * anywhere changes nothing, and a duplicate racing it loses on the unique id.
   */
  async function applyInTransaction(handler: CompanyHandler, received: ReceivedMessage, checked: unknown): Promise<CompanyEffect & { relationship: CompanyRelationship }> {
    const { message } = received;
    const context = options.context();
    try {
      return await store.transaction(async (tx) => {
        const expiresAt = seenUntil(message, clock.now(), clockSkewMs);
        if (handler.opensRelationship) {
          await tx.recordSeenMessage(message.id, expiresAt);
          return handler.apply({ store: tx, context, now: clock.now() }, received, checked);
        }
        const relationship = await liveOf(tx, received.senderDid, await tx.recordSeenAndFindRelationship(message.id, expiresAt, received.senderDid));
        const now = clock.now();
        return { relationship, ...(await handler.apply({ store: tx, relationship, context, now }, received, checked)) };
      });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'store.conflict' && (await store.hasSeenMessage(message.id))) {
        throw new MessageError('message.replayed', 'Message id was already received', { details: { id: message.id } });
      }
      throw error;
    }
  }

  return {
    pack,
    enqueue,
    deliverQueued,
    deliverDue: () => delivery.deliverDue(),

    async receive(packed) {
      const received = await receiveMessage(packed, receiveContext);
      const handler = handlers.get(received.message.type);
      if (!handler) throw new MessageError('message.unexpected', `A company agent does not accept ${received.message.type}`, { details: { type: received.message.type } });
      const context = options.context();
      const checked = handler.verify ? await handler.verify(received, context) : undefined;
      const effect = await applyInTransaction(handler, received, checked);
      const { relationship } = effect;
      logger.info('message_received', { type: received.message.type, relationship: relationship.id });
      let reply: string | undefined;
      if (effect.reply) {
        const packedReply = await pack(received.senderDid, effect.reply, received.message.thid ?? received.message.id);
        if (received.message.return_route === 'all') reply = packedReply.packed;
        else if (effect.replyDelivery === 'direct') await pushOnce(received.senderDid, packedReply.packed);
        else await enqueue(relationship, packedReply);
      }
      await handler.after?.(relationship, context);
      return { reply };
    },
  };
}

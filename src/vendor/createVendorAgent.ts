import { createHash, randomInt } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { RelationshipError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { silentLogger, type Logger } from '../core/log.js';
import { agreementKeyOf, signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage } from '../protocol/buildMessage.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { EnvelopeEngine } from '../protocol/envelope/engine.js';
import { fastEngine } from '../protocol/envelope/fastEngine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceiveContext } from '../protocol/envelope/receive.js';
import { BasicMessage, Connect, Relationship, createMessageRegistry } from '../protocol/families/index.js';
import { KITH_CONNECT_GOAL_CODE, OOB_INVITATION_TYPE, invitationUrl, type Invitation } from '../protocol/families/outOfBand.js';
import type { VendorPolicy } from './config.js';
import { DEFAULT_RETRY, OutboxDelivery, type RetryPolicy } from './delivery.js';
import { applyInbound, type Reply } from './inbound.js';
import type { StoredMessage, VendorRelationship, VendorStore } from './store/types.js';

export interface VendorAgentOptions {
  name: string;
  /** Base URL of this agent; the invitation points here and the DIDComm endpoint is `<publicUrl>/didcomm`. */
  publicUrl: string;
  store: VendorStore;
  identity: LocalIdentity;
  policy: VendorPolicy;
  clock?: Clock;
  resolver?: DidResolver;
  engine?: EnvelopeEngine;
  maxMessageBytes?: number;
  clockSkewMs?: number;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
}

export interface InboundResult {
  /** A packed reply for the same HTTP response (the sender asked with `return_route: all`). */
  reply: string | undefined;
}

export interface SendResult {
  messageId: string;
  delivered: boolean;
}

/** The vendor agent: everything a company's side does, without HTTP (see http/app.ts for that). */
export interface VendorAgent {
  readonly name: string;
  readonly did: string;
  readonly store: VendorStore;
  invitation(): Invitation;
  invitationUrl(): string;
  /**
   * Receives one packed DIDComm message: the fail-closed pipeline, then its effect.
   * @throws KithError with the code of the first check that failed; nothing is written then.
   */
  receive(packed: Uint8Array | string): Promise<InboundResult>;
  /** Sends a basic message; it waits in the outbox until her agent takes it (push or pickup). */
  sendMessage(relationshipId: string, content: string): Promise<SendResult>;
  relationships(): Promise<VendorRelationship[]>;
  messages(relationshipId: string): Promise<StoredMessage[]>;
  /** Resolves a relationship by id, id prefix or customer number. @throws RelationshipError `relationship.unknown` */
  findRelationship(reference: string): Promise<VendorRelationship>;
  deliverDue(): Promise<number>;
}

/** A UUID-shaped id derived from the vendor's DID. */
function invitationIdFor(did: string): string {
  const hex = createHash('sha256').update(did).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function createVendorAgent(options: VendorAgentOptions): VendorAgent {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const engine = options.engine ?? fastEngine;
  const resolver = options.resolver ?? createDidResolver();
  const { store, identity } = options;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const delivery = new OutboxDelivery(store, resolver, clock, logger, retry, options.fetch);
  const signingKey = signingKeyOf(identity);
  const agreementKey = agreementKeyOf(identity);
  const registry = createMessageRegistry();

  const receiveContext: ReceiveContext = {
    maxBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    engine,
    resolver,
    registry,
    clock,
    clockSkewMs,
    findRecipientKey: (kid) => (kid === agreementKey.kid ? agreementKey : undefined),
    hasSeen: (id) => store.hasSeenMessage(id),
  };

  async function pack(to: string, reply: Reply, thid?: string): Promise<{ id: string; packed: string }> {
    const peer = await resolvePeer(resolver, to);
    const message = buildMessage(
      { type: reply.type, from: identity.did, to, body: reply.body, ...(thid ? { thid } : {}), ...(reply.attachments ? { attachments: reply.attachments } : {}) },
      clock,
    );
    const packed = await packMessage({ message, signer: signingKey, recipients: [peer.agreementKey], engine });
    return { id: message.id, packed };
  }

  async function enqueue(relationship: VendorRelationship, messageId: string, packed: string, tx: VendorStore = store): Promise<void> {
    const now = clock.now();
    await tx.enqueueOutbox({ id: newId(), relationshipId: relationship.id, messageId, packed, createdAt: now, nextAttemptAt: now, attempts: 0 });
  }

  async function queueBasicMessage(relationship: VendorRelationship, content: string): Promise<string> {
    const { id, packed } = await pack(relationship.theirDid, { type: BasicMessage.message.type, body: { content } });
    await store.transaction(async (tx) => {
      await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: id, direction: 'out', type: BasicMessage.message.type, body: { content }, createdAt: clock.now() });
      await enqueue(relationship, id, packed, tx);
    });
    return id;
  }

  async function sendBasicMessage(relationship: VendorRelationship, content: string): Promise<SendResult> {
    const id = await queueBasicMessage(relationship, content);
    // Muted: held in the outbox without notice until she unmutes or picks up.
    const delivered = relationship.state === 'active' ? (await deliverQueued(relationship)) > 0 : false;
    return { messageId: id, delivered };
  }

  /** The erasure receipt cannot wait in an outbox that was just erased: one direct attempt. */
  async function pushOnce(theirDid: string, packed: string): Promise<void> {
    const peer = await resolvePeer(resolver, theirDid);
    if (peer.endpoint) await postEnvelope(peer.endpoint, packed, options.fetch ? { fetch: options.fetch } : {}).catch(() => undefined);
  }

  async function deliverQueued(relationship: VendorRelationship): Promise<number> {
    let delivered = 0;
    for (const item of await store.pendingOutbox(relationship.id, 100)) if (await delivery.deliver(item)) delivered += 1;
    return delivered;
  }

  const agent: VendorAgent = {
    name: options.name,
    did: identity.did,
    store,

    invitation() {
      return {
        type: OOB_INVITATION_TYPE,
        // Stable per vendor (the invitation is reusable) yet distinct between vendors.
        id: invitationIdFor(identity.did),
        from: identity.did,
        body: { goal_code: KITH_CONNECT_GOAL_CODE, goal: `Connect with ${options.name}`, accept: ['didcomm/v2'] },
      };
    },

    invitationUrl() {
      return invitationUrl(`${options.publicUrl.replace(/\/$/, '')}/invite`, agent.invitation());
    },

    async receive(packed) {
      const received = await receiveMessage(packed, receiveContext);
      const outcome = await applyInbound(received, {
        store,
        vendorName: options.name,
        acceptConnections: options.policy.acceptConnections,
        clockSkewMs,
        now: () => clock.now(),
        newCustomerRef: () => `C-${randomInt(10_000_000, 99_999_999)}`,
      });
      logger.info('message_received', { type: received.message.type, relationship: outcome.relationship?.id });
      const thid = received.message.thid ?? received.message.id;
      let reply: string | undefined;
      if (outcome.reply) {
        const packedReply = await pack(received.senderDid, outcome.reply, thid);
        if (received.message.return_route === 'all') reply = packedReply.packed;
        else if (received.message.type === Relationship.terminate.type) await pushOnce(received.senderDid, packedReply.packed);
        else if (outcome.relationship) await enqueue(outcome.relationship, packedReply.id, packedReply.packed);
      }
      if (outcome.relationship && received.message.type === Connect.request.type && options.policy.welcomeMessage) {
        // Queued, not pushed: her agent is still waiting for the connect response on this request.
        await queueBasicMessage(outcome.relationship, options.policy.welcomeMessage);
      }
      if (outcome.flushOutbox && outcome.relationship) await deliverQueued({ ...outcome.relationship, state: 'active' });
      return { reply };
    },

    async sendMessage(relationshipId, content) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      return sendBasicMessage(relationship, content);
    },

    relationships: () => store.listRelationships(),
    messages: (relationshipId) => store.listMessages(relationshipId),

    async findRelationship(reference) {
      const exact = await store.getRelationship(reference);
      if (exact) return exact;
      const all = await store.listRelationships();
      const matches = all.filter((r) => r.id.startsWith(reference) || r.customerRef === reference);
      if (matches.length !== 1 || !matches[0]) {
        throw new RelationshipError('relationship.unknown', matches.length > 1 ? 'Ambiguous relationship reference' : 'No such relationship');
      }
      return matches[0];
    },

    deliverDue: () => delivery.deliverDue(),
  };
  return agent;
}

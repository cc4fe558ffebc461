import { newId } from '../core/ids.js';
import { MessageError, RelationshipError, StoreError } from '../core/errors.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import { seenUntil } from '../protocol/buildMessage.js';
import { BasicMessage, Connect, Disclose, Pickup, ProfileUpdate, Relationship, ReportProblem, Terms, TrustPing } from '../protocol/families/index.js';
import { applyDisclosure, type DisclosureDeps, type VerifiedDisclosure } from './disclosure.js';
import { applyAnswer, applyProffer, type VerifiedTerms } from './terms.js';
import type { CompanyRelationship, CompanyStore } from './store/types.js';

/** What a handler asks the agent to send back: on the same HTTP response or, if not asked for, later. */
export interface Reply {
  type: string;
  body: Record<string, unknown>;
  attachments?: { id: string; media_type: string; data: { json: unknown } }[];
}

export interface InboundOutcome {
  relationship: CompanyRelationship | undefined;
  reply?: Reply;
  /** Set when the person unmuted: queued messages can go now. */
  flushOutbox?: boolean;
}

export interface InboundDeps {
  store: CompanyStore;
  companyName: string;
  acceptConnections: boolean;
  clockSkewMs: number;
  now(): number;
  newCustomerRef(): string;
  disclosure: DisclosureDeps;
  /** What verifyDisclosure checked before the transaction, for the message types it covers. */
  verified?: VerifiedDisclosure | undefined;
  /** What verifyTerms checked before the transaction (connect with a proffer, terms messages). */
  terms?: VerifiedTerms | undefined;
}

/** The problem code her agent sends for a disclosure request outside the agreed terms. */
export const OUTSIDE_TERMS_PROBLEM = 'e.p.terms.outside-terms';

type Handler = (received: ReceivedMessage, relationship: CompanyRelationship, tx: CompanyStore, deps: InboundDeps) => Promise<Omit<InboundOutcome, 'relationship'>>;

const MAX_PICKUP_BATCH = 100;
/** Well under the 256 KiB default message limit, leaving room for the delivery's own envelope. */
const PICKUP_BATCH_BYTES = 96 * 1024;

const handlers: Record<string, Handler> = {
  [TrustPing.ping.type]: async (received) =>
    received.message.body['response_requested'] === false ? {} : { reply: { type: TrustPing.pingResponse.type, body: {} } },

  [BasicMessage.message.type]: async (received, relationship, tx, deps) => {
    await tx.addMessage({
      id: newId(),
      relationshipId: relationship.id,
      messageId: received.message.id,
      direction: 'in',
      type: received.message.type,
      body: received.message.body,
      createdAt: deps.now(),
    });
    return {};
  },

  [Pickup.statusRequest.type]: async (_received, relationship, tx) => ({
    reply: { type: Pickup.status.type, body: { message_count: await tx.countPendingOutbox(relationship.id), live_delivery: false } },
  }),

  [Pickup.deliveryRequest.type]: async (received, relationship, tx) => {
    const limit = Math.min(Number(received.message.body['limit']), MAX_PICKUP_BATCH);
    const pending = await tx.pendingOutbox(relationship.id, limit);
    // The delivery itself must fit her size limit: stop before the batch grows past the budget.
    let budget = PICKUP_BATCH_BYTES;
    const items = pending.filter((item, index) => {
      budget -= item.packed.length;
      return index === 0 || budget >= 0;
    });
    if (items.length === 0) return { reply: { type: Pickup.status.type, body: { message_count: 0, live_delivery: false } } };
    return {
      reply: {
        type: Pickup.delivery.type,
        body: {},
        attachments: items.map((item) => ({
          id: item.messageId,
          media_type: 'application/didcomm-encrypted+json',
          data: { json: JSON.parse(item.packed) as unknown },
        })),
      },
    };
  },

  [Pickup.messagesReceived.type]: async (received, relationship, tx) => {
    await tx.removeOutbox(relationship.id, received.message.body['message_id_list'] as string[]);
    return {};
  },

  [Relationship.mute.type]: async (_received, relationship, tx, deps) => {
    await tx.setRelationshipState(relationship.id, 'muted', deps.now());
    return {};
  },

  [Relationship.unmute.type]: async (_received, relationship, tx, deps) => {
    await tx.setRelationshipState(relationship.id, 'active', deps.now());
    return { flushOutbox: true };
  },

  [Relationship.terminate.type]: async (received, relationship, tx, deps) => {
    const terminatedAt = deps.now();
    const summary = await tx.eraseRelationship(relationship.id, terminatedAt);
    // The company's own systems must erase too; the event carries no personal value.
    await tx.enqueueEvent({
      id: newId(),
      relationshipId: relationship.id,
      type: 'relationship.erased',
      payload: { relationshipId: relationship.id, customerRef: relationship.customerRef },
      createdAt: terminatedAt,
      nextAttemptAt: terminatedAt,
      attempts: 0,
      dispatchedAt: null,
    });
    return {
      reply: {
        type: Relationship.erasureReceipt.type,
        body: {
          relationship: received.senderDid,
          terminated_at: Math.floor(terminatedAt / 1000),
          erased_at: Math.floor(summary.erasedAt / 1000),
          erased: summary.erased.map((entry) => ({ ...entry, where: `vendor-store:${tx.dialect}` })),
        },
      },
    };
  },

  // Her agent refused a disclosure request as outside the agreed terms: the request is over.
  [ReportProblem.problemReport.type]: async (received, relationship, tx, deps) => {
    const { pthid } = received.message;
    if (received.message.body['code'] !== OUTSIDE_TERMS_PROBLEM || pthid === undefined) return {};
    const request = (await tx.listDisclosureRequests(relationship.id)).find((r) => r.messageId === pthid && r.state === 'pending');
    if (request) await tx.settleDisclosureRequest(request.id, 'declined', deps.now());
    return {};
  },

  [Terms.proffer.type]: async (_received, relationship, tx, deps) => {
    const verified = deps.terms;
    if (verified?.kind !== 'proffer') throw new MessageError('message.unexpected', 'Terms were not verified before they were applied');
    return { reply: { type: Terms.response.type, body: await applyProffer(verified, relationship, tx, deps.now()) } };
  },
  [Terms.accept.type]: answerTerms,
  [Terms.decline.type]: answerTerms,
  [Terms.response.type]: answerTerms,

  [Disclose.present.type]: answerWithDisclosure,
  [Disclose.decline.type]: answerWithDisclosure,
  [ProfileUpdate.notice.type]: answerWithDisclosure,
};

async function answerWithDisclosure(received: ReceivedMessage, relationship: CompanyRelationship, tx: CompanyStore, deps: InboundDeps): Promise<Omit<InboundOutcome, 'relationship'>> {
  if (!deps.verified) throw new MessageError('message.unexpected', 'Disclosure was not verified before it was applied');
  return { reply: await applyDisclosure(deps.verified, received, relationship, tx, deps.disclosure) };
}

async function answerTerms(_received: ReceivedMessage, relationship: CompanyRelationship, tx: CompanyStore, deps: InboundDeps): Promise<Omit<InboundOutcome, 'relationship'>> {
  const verified = deps.terms;
  if (verified === undefined || verified.kind === 'proffer') throw new MessageError('message.unexpected', 'Terms were not verified before they were applied');
  const reply = await applyAnswer(verified, relationship, tx, deps.now());
  return reply ? { reply } : {};
}

async function connect(received: ReceivedMessage, tx: CompanyStore, deps: InboundDeps): Promise<InboundOutcome> {
  if (!deps.acceptConnections) {
    throw new RelationshipError('relationship.not_active', 'This company does not accept new connections');
  }
  if (await tx.isTombstoned(received.senderDid)) {
    throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
  }
  // A retried request (her agent lost our answer) gets the same relationship, not a second one.
  let relationship = await tx.findRelationshipByDid(received.senderDid);
  if (!relationship) {
    const now = deps.now();
    relationship = { id: newId(), theirDid: received.senderDid, customerRef: deps.newCustomerRef(), state: 'active', createdAt: now, updatedAt: now };
    await tx.createRelationship(relationship);
  }
  const terms = deps.terms?.kind === 'proffer' ? await applyProffer(deps.terms, relationship, tx, deps.now()) : undefined;
  return {
    relationship,
    reply: { type: Connect.response.type, body: { vendor: { name: deps.companyName }, customer_ref: relationship.customerRef, ...(terms ? { terms } : {}) } },
  };
}

/**
 * The sender's relationship, if it is still live.
 * @throws RelationshipError `relationship.unknown`, or `relationship.cut_off` for an erased or ended one
 */
export async function liveRelationship(store: CompanyStore, theirDid: string): Promise<CompanyRelationship> {
  const relationship = await store.findRelationshipByDid(theirDid);
  if (!relationship) {
    if (await store.isTombstoned(theirDid)) throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    throw new RelationshipError('relationship.unknown', 'No relationship with this sender');
  }
  if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
  return relationship;
}

/**
 * Applies one verified message to the vendor store, atomically with recording its id as seen, so
 * a message that fails anywhere changes nothing and a duplicate racing it loses on the unique id.
 * @throws RelationshipError `relationship.unknown` | `relationship.cut_off` | `relationship.not_active`,
 *   MessageError `message.unexpected` | `message.replayed`
 */
export async function applyInbound(received: ReceivedMessage, deps: InboundDeps): Promise<InboundOutcome> {
  const { message } = received;
  const isConnect = message.type === Connect.request.type;
  const handler = handlers[message.type];
  if (!isConnect && !handler) {
    throw new MessageError('message.unexpected', `A vendor agent does not accept ${message.type}`, { details: { type: message.type } });
  }
  try {
    return await deps.store.transaction(async (tx) => {
      await tx.recordSeenMessage(message.id, seenUntil(message, deps.now(), deps.clockSkewMs));
      if (isConnect) return connect(received, tx, deps);
      const relationship = await liveRelationship(tx, received.senderDid);
      return { relationship, ...(await handler!(received, relationship, tx, deps)) };
    });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'store.conflict' && (await deps.store.hasSeenMessage(message.id))) {
      throw new MessageError('message.replayed', 'Message id was already received', { details: { id: message.id } });
    }
    throw error;
  }
}

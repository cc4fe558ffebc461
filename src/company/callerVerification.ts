import type { Clock } from '../core/clock.js';
import { RelationshipError, VerificationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { outgoing } from '../protocol/buildMessage.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import { CallerVerification, formatBindingCode, newBindingCode, type AnswerBody } from '../protocol/families/callerVerification.js';
import type { CompanyMessaging } from './messaging.js';
import type { AuditEntry, CallerVerificationRow, CallerVerificationState, CompanyRelationship, CompanyStore } from './store/types.js';

/** How long her agent has to answer: the call is in progress, so minutes, not days. */
export const VERIFICATION_LIFETIME_MS = 5 * 60_000;
/** The operator label the challenge carries is cut to the protocol's limit. */
const MAX_OPERATOR_LABEL = 100;

/** Where a verification stands for the console: a pending challenge past its end is `expired` (never stored). */
export type VerificationStatus = CallerVerificationState | 'expired';

/** A verification as the console, the admin API and the CLI show it. */
export interface VerificationView {
  id: string;
  relationshipId: string;
  /** The code as both screens show it: `K7Q-4MX`. */
  code: string;
  operator: string;
  state: VerificationStatus;
  expiresAt: number;
  createdAt: number;
  answeredAt: number | null;
  /** Her pairwise DID, the signer of her answer; null until answered. */
  signedBy: string | null;
  signerKid: string | null;
  /** Her answer's JWS exactly as received: the proof. */
  answerJws: string | null;
}

export interface StartedVerification extends VerificationView {
  /** Her agent took the challenge at once (else it waits in the outbox for push or pickup). */
  delivered: boolean;
}

export interface CallerVerifications {
  /**
   * Sends her a challenge with a fresh binding code, queued and pushed like any message.
   * @throws RelationshipError `relationship.unknown` | `relationship.cut_off`
   */
  start(relationshipId: string, operator: string): Promise<StartedVerification>;
  /** @throws VerificationError `verification.unknown` */
  get(id: string): Promise<VerificationView>;
  /** A relationship's verifications, newest first. */
  list(relationshipId: string): Promise<VerificationView[]>;
}

export function verificationView(row: CallerVerificationRow, now: number): VerificationView {
  return {
    id: row.id,
    relationshipId: row.relationshipId,
    code: formatBindingCode(row.code),
    operator: row.operator,
    state: row.state === 'pending' && now > row.expiresAt ? 'expired' : row.state,
    expiresAt: row.expiresAt,
    createdAt: row.createdAt,
    answeredAt: row.answeredAt,
    signedBy: row.signerKid === null ? null : (row.signerKid.split('#')[0] ?? null),
    signerKid: row.signerKid,
    answerJws: row.answerJws,
  };
}

export function createCallerVerifications(options: { store: CompanyStore; messaging: CompanyMessaging; clock: Clock; logger: Logger }): CallerVerifications {
  const { store, messaging, clock, logger } = options;

  async function live(relationshipId: string): Promise<CompanyRelationship> {
    const relationship = await store.getRelationship(relationshipId);
    if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
    if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    return relationship;
  }

  return {
    async start(relationshipId, operator) {
      const relationship = await live(relationshipId);
      const now = clock.now();
      const expiresAt = now + VERIFICATION_LIFETIME_MS;
      const label = operator.trim().slice(0, MAX_OPERATOR_LABEL) || 'Support';
      const body = { challenge_id: newId(), code: newBindingCode(), agent: label, expires_time: Math.floor(expiresAt / 1000) };
      const packed = await messaging.pack(relationship.theirDid, outgoing(CallerVerification.challenge, body));
      const row: CallerVerificationRow = {
        id: body.challenge_id,
        relationshipId: relationship.id,
        messageId: packed.id,
        code: body.code,
        operator: label,
        state: 'pending',
        // What she is told, to the second: the company holds itself to the same end.
        expiresAt: body.expires_time * 1000,
        createdAt: now,
        answeredAt: null,
        answerMessageId: null,
        signerKid: null,
        answerJws: null,
      };
      await store.transaction(async (tx) => {
        await tx.createVerification(row);
        await messaging.enqueue(relationship, packed, tx);
      });
      logger.info('caller_verification_sent', { relationship: relationship.id });
      // Muted: it waits like every message (she sees it when she picks up).
      const delivered = relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
      return { ...verificationView(row, clock.now()), delivered };
    },

    async get(id) {
      const row = await store.getVerification(id);
      if (!row) throw new VerificationError('verification.unknown', 'No such caller verification');
      return verificationView(row, clock.now());
    },

    async list(relationshipId) {
      const now = clock.now();
      return (await store.listVerifications(relationshipId)).map((row) => verificationView(row, now));
    },
  };
}

/**
 * Her answer, in the transaction that records it as seen: it must name a challenge of this very
 * relationship on its thread, still pending and not past its end. Refused answers change nothing.
 * @throws VerificationError `verification.unknown` | `verification.expired` | `verification.answered`
 */
export async function applyAnswer(store: CompanyStore, relationship: CompanyRelationship, received: ReceivedMessage<AnswerBody>, now: number): Promise<void> {
  const { body, thid, id } = received.message;
  const row = await store.getVerification(body.challenge_id);
  // Another relationship's challenge is as unknown as none: a customer learns nothing of others'.
  if (!row || row.relationshipId !== relationship.id || thid !== row.messageId) {
    throw new VerificationError('verification.unknown', 'No such caller verification on this relationship', { details: { challengeId: body.challenge_id } });
  }
  if (row.state !== 'pending') throw new VerificationError('verification.answered', 'This caller verification was already answered');
  if (now > row.expiresAt) throw new VerificationError('verification.expired', 'This caller verification has expired');
  const answered = await store.answerVerification(row.id, { state: body.decision, answeredAt: now, answerMessageId: id, signerKid: received.signerKid, answerJws: received.signedJws });
  if (!answered) throw new VerificationError('verification.answered', 'This caller verification was already answered');
}

/** One line of the audit log: who looked at or acted on which customer. */
export function auditEntry(operator: string, action: string, relationshipId: string | null, at: number): AuditEntry {
  return { id: newId(), operator, relationshipId, action, at };
}

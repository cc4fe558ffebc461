import type { Clock } from '../core/clock.js';
import { ApiError, RelationshipError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { outgoing } from '../protocol/buildMessage.js';
import { Account, identifierKindSchema, identifierLabelSchema, identifierValueSchema, identifiersAckBodySchema, identifiersBodySchema, normaliseIdentifierValue, type Identifier } from '../protocol/families/account.js';
import { z } from 'zod';
import type { CompanyMessaging } from './messaging.js';
import type { CompanyRelationship, CompanyStore, StoredMessage } from './store/types.js';

/** What the admin API and `kith-vendor account set` take: one identifier to add (or relabel). */
export const identifierInputSchema = z
  .object({
    kind: identifierKindSchema,
    value: identifierValueSchema,
    label: identifierLabelSchema.optional(),
  })
  .strict();
export type IdentifierInput = z.infer<typeof identifierInputSchema>;

/** The list the company last sent her, and how far her agent acknowledged. */
export interface IdentifierList {
  relationshipId: string;
  /** 0 before any list was sent: she holds the customer number of the connect response then. */
  sequence: number;
  identifiers: Identifier[];
  /** The DIDComm id of the account/identifiers message that carried it. */
  messageId: string | null;
  /** The latest list her agent acknowledged holding (0: none yet). */
  acknowledged: number;
}

export interface AccountIdentifierResult extends IdentifierList {
  /** Her agent took the list at once (else it waits in the outbox for push or pickup). */
  delivered: boolean;
}

export interface CompanyAccountIds {
  /** The list last sent. @throws RelationshipError `relationship.unknown` */
  current(relationshipId: string): Promise<IdentifierList>;
  /**
   * Adds an identifier (or relabels one of the same kind and value) and sends her the whole new list.
   * @throws ApiError `api.bad_request` (invalid, or the list would be too long); RelationshipError `relationship.unknown` | `relationship.cut_off`
   */
  set(relationshipId: string, input: unknown): Promise<AccountIdentifierResult>;
}

/** Her customer number, as the connect response told her (the first list has it first). */
function customerNumberOf(relationship: CompanyRelationship): Identifier[] {
  return [{ kind: 'customer_number', value: relationship.customerRef, issued_at: new Date(relationship.createdAt).toISOString() }];
}

const isList = (m: StoredMessage) => m.direction === 'out' && m.type === Account.identifiers.type;
const isAck = (m: StoredMessage) => m.direction === 'in' && m.type === Account.ack.type;

/**
 * The identifiers a relationship knows her by. What it sent is kept in the relationship's message
 * log (erased with it on cut-off): each account/identifiers body is the whole list, so the last one
 * is the current list, and her acks are logged beside them. No table of its own.
 */
export function createCompanyAccountIds(options: { store: CompanyStore; messaging: CompanyMessaging; clock: Clock; logger: Logger }): CompanyAccountIds {
  const { store, messaging, clock, logger } = options;

  async function read(tx: CompanyStore, relationship: CompanyRelationship): Promise<IdentifierList> {
    const relationshipId = relationship.id;
    const log = await tx.listMessages(relationshipId);
    const last = log.filter(isList).at(-1);
    const acknowledged = log.filter(isAck).reduce((max, m) => Math.max(max, identifiersAckBodySchema.parse(m.body).sequence), 0);
    // Before its first list she knows the customer number from the connect response (her list 0).
    if (!last) return { relationshipId, sequence: 0, identifiers: customerNumberOf(relationship), messageId: null, acknowledged };
    const body = identifiersBodySchema.parse(last.body);
    return { relationshipId, sequence: body.sequence, identifiers: body.identifiers, messageId: last.messageId, acknowledged };
  }

  /** Packs and queues the next list in one transaction with reading the last one, so two changes never share a number. */
  async function send(relationship: CompanyRelationship, next: (current: IdentifierList) => Identifier[]): Promise<IdentifierList> {
    return store.transaction(async (tx) => {
      const current = await read(tx, relationship);
      const identifiers = next(current);
      const body = { subject: relationship.theirDid, sequence: current.sequence + 1, identifiers };
      const checked = identifiersBodySchema.safeParse(body);
      if (!checked.success) throw new ApiError('api.bad_request', `Invalid identifiers: ${describeZodIssues(checked.error).join('; ')}`);
      const packed = await messaging.pack(relationship.theirDid, outgoing(Account.identifiers, checked.data));
      await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: packed.id, direction: 'out', type: Account.identifiers.type, body: checked.data, createdAt: clock.now() });
      await messaging.enqueue(relationship, packed, tx);
      return { relationshipId: relationship.id, sequence: body.sequence, identifiers, messageId: packed.id, acknowledged: current.acknowledged };
    });
  }

  const issuedNow = () => new Date(Math.floor(clock.now() / 1000) * 1000).toISOString();

  return {
    async current(relationshipId) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      return read(store, relationship);
    },

    async set(relationshipId, input) {
      const parsed = identifierInputSchema.safeParse(input);
      if (!parsed.success) throw new ApiError('api.bad_request', `Invalid identifier: ${describeZodIssues(parsed.error).join('; ')}`, { details: { fields: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join('.') || 'body', i.message])) } });
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      const { kind, value, label } = parsed.data;
      const same = (i: Identifier) => i.kind === kind && normaliseIdentifierValue(i.value) === normaliseIdentifierValue(value);
      const sent = await send(relationship, (current): Identifier[] => {
        const previous = current.identifiers.find(same);
        return [...current.identifiers.filter((i) => !same(i)), { kind, value, ...(label === undefined ? {} : { label }), issued_at: previous?.issued_at ?? issuedNow() }];
      });
      logger.info('account_identifiers_sent', { relationship: relationship.id, sequence: sent.sequence });
      // Muted: it waits like every message (she sees it when she picks up).
      const delivered = relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
      return { ...sent, delivered };
    },
  };
}

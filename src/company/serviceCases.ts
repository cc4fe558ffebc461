import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { RelationshipError, ServiceError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { outgoing, type Outgoing } from '../protocol/buildMessage.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import { Service, caseTextSchema, type CaseIdentifier, type CaseOpenBody, type CaseReplyBody, type CaseResolveBody, type CaseState, type SharedThing } from '../protocol/families/service.js';
import type { CompanyMessaging } from './messaging.js';
import type { CompanyRelationship, CompanyStore, ServiceCaseEntry, ServiceCaseRow } from './store/types.js';

/** A service case as the admin API, the CLI and the console show it. */
export interface ServiceCaseView {
  /** The company's id for the case. */
  id: string;
  relationshipId: string;
  customerRef: string;
  /** Her id for the case, named by every message of it. */
  caseId: string;
  state: CaseState;
  warrantyClaim: boolean;
  /** The details of her thing she chose to share. */
  thing: SharedThing;
  /** The identifier she picked from those the company knows her by, if any. */
  identifier: CaseIdentifier | null;
  createdAt: number;
  updatedAt: number;
}

export interface ServiceCaseThreadEntry {
  author: 'person' | 'company';
  kind: 'open' | 'reply' | 'resolve';
  text: string | null;
  messageId: string;
  createdAt: number;
}

export interface ServiceCaseDetail extends ServiceCaseView {
  thread: ServiceCaseThreadEntry[];
}

export interface ServiceCaseSent {
  case: ServiceCaseDetail;
  /** Her agent took the message at once (else it waits in the outbox for push or pickup). */
  delivered: boolean;
}

/** What `POST /admin/cases/:id/replies` and `.../resolve` take. */
export const caseReplyInputSchema = z.strictObject({ text: caseTextSchema });
export const caseResolveInputSchema = z.strictObject({ text: caseTextSchema.optional() });

export const caseListStateSchema = z.enum(['open', 'answered', 'resolved']);

export interface CompanyServiceCases {
  /** Most recently changed first; all, one state's, or one relationship's. */
  list(options?: { state?: CaseState; relationshipId?: string; limit?: number }): Promise<ServiceCaseView[]>;
  /** By its id, a unique id prefix of at least 4 characters, or her case id. @throws ServiceError `service.unknown_case` */
  show(reference: string): Promise<ServiceCaseDetail>;
  /**
   * Writes in the case's thread, signed and queued like any message; the case is then `answered`.
   * @throws ServiceError `service.unknown_case` | `service.case_resolved` | `service.invalid`; RelationshipError `relationship.cut_off`
   */
  reply(reference: string, text: string): Promise<ServiceCaseSent>;
  /** Resolves the case, with or without a last word. @throws as {@link reply} */
  resolve(reference: string, text?: string): Promise<ServiceCaseSent>;
}

function view(row: ServiceCaseRow, relationship: CompanyRelationship | undefined): ServiceCaseView {
  return {
    id: row.id,
    relationshipId: row.relationshipId,
    customerRef: relationship?.customerRef ?? '',
    caseId: row.caseId,
    state: row.state,
    warrantyClaim: row.warrantyClaim,
    thing: row.details.thing,
    identifier: row.details.identifier,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const threadEntry = (e: ServiceCaseEntry): ServiceCaseThreadEntry => ({ author: e.author, kind: e.kind, text: e.text, messageId: e.messageId, createdAt: e.createdAt });

/** The relationship's case a message of hers names. @throws ServiceError `service.unknown_case` (none on this relationship, though another may have one of that id) */
async function caseOf(store: CompanyStore, relationship: CompanyRelationship, caseId: string): Promise<ServiceCaseRow> {
  const row = await store.findServiceCase(relationship.id, caseId);
  if (!row) throw new ServiceError('service.unknown_case', 'No such service case on this relationship');
  return row;
}

function notResolved(row: ServiceCaseRow): void {
  if (row.state === 'resolved') throw new ServiceError('service.case_resolved', 'The service case is resolved');
}

/**
 * Her case-open, in the transaction of the message: the case and its first entry, and the
 * `service_case.opened` connector event. A case id this relationship already has (her resend) is
 * acknowledged with the case's state and changes nothing.
 */
export async function receiveCaseOpen(store: CompanyStore, relationship: CompanyRelationship, received: ReceivedMessage<CaseOpenBody>, now: number, logger: Logger): Promise<Outgoing> {
  const { body } = received.message;
  const row: ServiceCaseRow = {
    id: newId(),
    relationshipId: relationship.id,
    caseId: body.case_id,
    state: 'open',
    warrantyClaim: body.warranty_claim,
    details: { thing: body.thing, identifier: body.identifier ?? null },
    createdAt: now,
    updatedAt: now,
  };
  if (!(await store.createServiceCase(row))) {
    const existing = await caseOf(store, relationship, body.case_id);
    return outgoing(Service.ack, { case_id: body.case_id, state: existing.state });
  }
  await store.addServiceCaseEntry({ id: newId(), caseRowId: row.id, relationshipId: relationship.id, messageId: received.message.id, author: 'person', kind: 'open', text: body.text, createdAt: now });
  await store.enqueueEvent({
    id: newId(),
    relationshipId: relationship.id,
    type: 'service_case.opened',
    payload: { relationshipId: relationship.id, customerRef: relationship.customerRef, caseId: row.id, warrantyClaim: row.warrantyClaim },
    createdAt: now,
    nextAttemptAt: now,
    attempts: 0,
    dispatchedAt: null,
  });
  logger.info('service_case_opened', { relationship: relationship.id, case: row.id, warranty_claim: row.warrantyClaim });
  return outgoing(Service.ack, { case_id: body.case_id, state: 'open' });
}

/** Her reply (the case waits for the company again: `open`) or her resolve, in the message's transaction. */
export async function receiveCaseMessage(
  store: CompanyStore,
  relationship: CompanyRelationship,
  received: ReceivedMessage<CaseReplyBody | CaseResolveBody>,
  kind: 'reply' | 'resolve',
  now: number,
  logger: Logger,
): Promise<Outgoing> {
  const { body } = received.message;
  const row = await caseOf(store, relationship, body.case_id);
  notResolved(row);
  const state: CaseState = kind === 'resolve' ? 'resolved' : 'open';
  if (!(await store.setServiceCaseState(row.id, state, now))) throw new ServiceError('service.case_resolved', 'The service case is resolved');
  await store.addServiceCaseEntry({ id: newId(), caseRowId: row.id, relationshipId: relationship.id, messageId: received.message.id, author: 'person', kind, text: body.text ?? null, createdAt: now });
  logger.info(kind === 'resolve' ? 'service_case_resolved' : 'service_case_reply', { relationship: relationship.id, case: row.id, by: 'person' });
  return outgoing(Service.ack, { case_id: body.case_id, state });
}

/** Her agent's ack of the company's reply or resolve: the case must be one of this relationship's. */
export async function receiveCaseAck(store: CompanyStore, relationship: CompanyRelationship, caseId: string, state: CaseState, logger: Logger): Promise<void> {
  const row = await caseOf(store, relationship, caseId);
  logger.info('service_case_acknowledged', { relationship: relationship.id, case: row.id, state });
}

/** The company's side of service cases (docs/protocol/service.md). */
export function createCompanyServiceCases(options: { store: CompanyStore; messaging: CompanyMessaging; clock: Clock; logger: Logger }): CompanyServiceCases {
  const { store, messaging, clock, logger } = options;

  async function find(reference: string): Promise<ServiceCaseRow> {
    const ref = reference.trim();
    const exact = await store.getServiceCase(ref);
    if (exact) return exact;
    const all = await store.listServiceCases({ limit: 1000 });
    const matches = all.filter((r) => r.caseId === ref || (ref.length >= 4 && r.id.startsWith(ref.toLowerCase())));
    if (matches.length !== 1 || !matches[0]) throw new ServiceError('service.unknown_case', matches.length > 1 ? 'Ambiguous service case reference' : 'No such service case');
    return matches[0];
  }

  async function detail(row: ServiceCaseRow): Promise<ServiceCaseDetail> {
    const relationship = await store.getRelationship(row.relationshipId);
    return { ...view(row, relationship), thread: (await store.listServiceCaseEntries(row.id)).map(threadEntry) };
  }

  async function send(reference: string, kind: 'reply' | 'resolve', text: string | undefined): Promise<ServiceCaseSent> {
    const checked = (kind === 'reply' ? caseReplyInputSchema : caseResolveInputSchema).safeParse(text === undefined ? {} : { text });
    if (!checked.success) throw new ServiceError('service.invalid', `Invalid text: ${describeZodIssues(checked.error).join('; ')}`, { details: { fields: ['text'] } });
    const row = await find(reference);
    const relationship = await store.getRelationship(row.relationshipId);
    if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
    if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    notResolved(row);
    const state: CaseState = kind === 'resolve' ? 'resolved' : 'answered';
    await store.transaction(async (tx) => {
      // Compare-and-set: a resolve of hers that arrived meanwhile wins, and nothing is sent.
      if (!(await tx.setServiceCaseState(row.id, state, clock.now()))) throw new ServiceError('service.case_resolved', 'The service case is resolved');
      const packed =
        kind === 'resolve'
          ? await messaging.pack(relationship.theirDid, outgoing(Service.caseResolve, { case_id: row.caseId, ...(text === undefined ? {} : { text }) }))
          : await messaging.pack(relationship.theirDid, outgoing(Service.caseReply, { case_id: row.caseId, text: text ?? '' }));
      await tx.addServiceCaseEntry({ id: newId(), caseRowId: row.id, relationshipId: relationship.id, messageId: packed.id, author: 'company', kind, text: text ?? null, createdAt: clock.now() });
      await messaging.enqueue(relationship, packed, tx);
    });
    logger.info(kind === 'resolve' ? 'service_case_resolved' : 'service_case_reply', { relationship: relationship.id, case: row.id, by: 'company' });
    // Muted: it waits like every message (she sees it when she picks up).
    const delivered = relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
    const after = await store.getServiceCase(row.id);
    return { case: await detail(after ?? row), delivered };
  }

  return {
    async list(listOptions = {}) {
      const rows = await store.listServiceCases(listOptions);
      const relationships = new Map<string, CompanyRelationship | undefined>();
      const out: ServiceCaseView[] = [];
      for (const row of rows) {
        if (!relationships.has(row.relationshipId)) relationships.set(row.relationshipId, await store.getRelationship(row.relationshipId));
        out.push(view(row, relationships.get(row.relationshipId)));
      }
      return out;
    },
    show: async (reference) => detail(await find(reference)),
    reply: (reference, text) => send(reference, 'reply', text),
    resolve: (reference, text) => send(reference, 'resolve', text),
  };
}

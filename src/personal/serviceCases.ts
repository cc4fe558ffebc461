import { z } from 'zod';
import { AccountError, MessageError, RelationshipError, ServiceError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import { outgoing } from '../protocol/buildMessage.js';
import { normaliseIdentifierValue } from '../protocol/families/account.js';
import { SHAREABLE_THING_FIELDS, Service, caseAckBodySchema, caseTextSchema, type CaseIdentifier, type CaseState, type SharedThing } from '../protocol/families/service.js';
import type { ThingRole } from '../protocol/things/fields.js';
import type { AgentCore } from './core.js';
import type { ThingsFeature, ThingView } from './things.js';
import type { CaseEntry, ServiceCaseRecord } from './vault/serviceCaseRepo.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';

/** A service case as her web app and CLI show it (docs/protocol/service.md). */
export interface ServiceCaseView {
  /** The case id both sides know it by. */
  id: string;
  /** Null once she deleted the thing. */
  thingId: string | null;
  thingName: string;
  relationshipId: string;
  companyName: string | null;
  state: CaseState;
  warrantyClaim: boolean;
  /** The details of the thing she shared. */
  shared: SharedThing;
  identifier: CaseIdentifier | null;
  /** Oldest first: her opening message, then hers and the company's. */
  thread: CaseEntry[];
  createdAt: number;
  updatedAt: number;
}

/** `serial` is what she types; the field is schema.org's serialNumber. */
const SHARE_ALIASES: Readonly<Record<string, keyof SharedThing>> = { serial: 'serialNumber' };

/** What she gives to open a case (the local API's body, the CLI's options). */
export const openCaseInputSchema = z.strictObject({
  text: caseTextSchema,
  /** The relationship to open it on (id, prefix or company name); default: the thing's servicer, else maker, else seller. */
  with: z.string().min(1).max(200).optional(),
  /** The details of the thing to share, by field name; none unless picked. */
  share: z
    .array(z.enum([...SHAREABLE_THING_FIELDS, ...Object.keys(SHARE_ALIASES)] as [string, ...string[]]))
    .max(20)
    .optional(),
  /** One identifier the company knows her by (`kith ids`: its id, an id prefix, or its value). */
  identifier: z.string().min(1).max(200).optional(),
});
export type OpenCaseInput = z.input<typeof openCaseInputSchema>;

export const caseTextInputSchema = z.strictObject({ text: caseTextSchema });
export const caseResolveInputSchema = z.strictObject({ text: caseTextSchema.optional() });

/** The roles a case goes to by default, in order: who services the thing, else who made it, else who sold it. */
const SUPPORT_ORDER: readonly ThingRole[] = ['servicer', 'maker', 'seller'];

export interface ServiceCasesFeature {
  /** Oldest first; all, or one thing's. @throws ThingError `thing.unknown` */
  list(thing?: string): ServiceCaseView[];
  /** By id or a unique id prefix of at least 4 characters. @throws ServiceError `service.unknown_case` */
  get(reference: string): ServiceCaseView;
  /**
   * Opens a case about one of her things on the relationship that supports it and sends it; kept
   * only once the company acknowledged it.
   * @throws ServiceError `service.invalid` | `service.no_supporter` | `service.not_linked`; ThingError `thing.unknown`;
   * RelationshipError `relationship.unknown` | `relationship.cut_off` | `relationship.not_active` (muted); AccountError `account.unknown`; TransportError
   */
  open(thing: string, input: unknown): Promise<ServiceCaseView>;
  /** Writes in the case. @throws ServiceError `service.unknown_case` | `service.case_resolved` | `service.invalid`; RelationshipError `relationship.cut_off`; TransportError */
  reply(reference: string, input: unknown): Promise<ServiceCaseView>;
  /** Closes the case (she is done with it). @throws as {@link reply} */
  resolve(reference: string, input?: unknown): Promise<ServiceCaseView>;
}

function invalid(error: z.ZodError): ServiceError {
  const fields = [...new Set(error.issues.map((i) => i.path.map(String).join('.') || '(root)'))];
  return new ServiceError('service.invalid', `Invalid service case: ${describeZodIssues(error).join('; ')}`, { details: { fields } });
}

export function createServiceCasesFeature(core: AgentCore, things: ThingsFeature): ServiceCasesFeature {
  const { vault, clock, logger, events } = core;

  function view(record: ServiceCaseRecord): ServiceCaseView {
    const { id, thingId, thingName, relationshipId, state, warrantyClaim, shared, identifier, thread, createdAt, updatedAt } = record;
    return { id, thingId, thingName, relationshipId, companyName: vault.relationships.get(relationshipId)?.vendorName ?? null, state, warrantyClaim, shared, identifier, thread, createdAt, updatedAt };
  }

  function find(reference: string): ServiceCaseRecord {
    const exact = vault.serviceCases.get(reference);
    if (exact) return exact;
    const matches = reference.length >= 4 ? vault.serviceCases.ids().filter((id) => id.startsWith(reference)) : [];
    const record = matches.length === 1 && matches[0] ? vault.serviceCases.get(matches[0]) : undefined;
    if (!record) throw new ServiceError('service.unknown_case', matches.length > 1 ? 'Ambiguous service case reference' : 'No such service case');
    return record;
  }

  /** The relationship the case goes to. @throws ServiceError `service.not_linked` | `service.no_supporter` */
  function supporter(thing: ThingView, named: string | undefined): RelationshipRecord {
    if (named !== undefined) {
      const relationship = core.find(named);
      if (!thing.links.some((l) => l.relationshipId === relationship.id)) throw new ServiceError('service.not_linked', 'That company is not linked to this thing', { details: { relationshipId: relationship.id } });
      return relationship;
    }
    const candidates = SUPPORT_ORDER.flatMap((role) => thing.links.filter((l) => l.role === role)).flatMap((l) => {
      const relationship = vault.relationships.get(l.relationshipId);
      return relationship ? [relationship] : [];
    });
    // A live one first: a cut-off servicer does not hide a maker still there.
    const chosen = candidates.find((r) => r.state === 'active') ?? candidates[0];
    if (!chosen) throw new ServiceError('service.no_supporter', 'No company services, made or sold this thing');
    return chosen;
  }

  /** The identifier she picked, among those this company knows her by. @throws AccountError `account.unknown` */
  function pickIdentifier(relationshipId: string, reference: string): CaseIdentifier {
    const known = vault.accountIds.list(relationshipId);
    const wanted = normaliseIdentifierValue(reference);
    const byId = known.filter((i) => i.id === reference || (reference.length >= 4 && i.id.startsWith(reference)));
    const matches = byId.length > 0 ? byId : known.filter((i) => wanted.length > 0 && normaliseIdentifierValue(i.value) === wanted);
    if (matches.length !== 1 || !matches[0]) throw new AccountError('account.unknown', matches.length > 1 ? 'Ambiguous identifier reference' : 'This company knows her by no such identifier (kith ids)');
    const { kind, value, label } = matches[0];
    return { kind, value, ...(label === null ? {} : { label }) };
  }

  function shareOf(thing: ThingView, fields: readonly string[]): SharedThing {
    const shared: Record<string, unknown> = {};
    for (const name of fields) {
      const field = SHARE_ALIASES[name] ?? (name as keyof SharedThing);
      const value = thing[field];
      if (value === undefined) throw new ServiceError('service.invalid', `The thing has no ${field} to share`, { details: { fields: [`share.${name}`] } });
      shared[field] = value;
    }
    return shared as SharedThing;
  }

  function live(relationship: RelationshipRecord): void {
    core.requireLive(relationship);
    if (relationship.state !== 'active') throw new RelationshipError('relationship.not_active', relationship.state === 'muted' ? 'She muted this company: unmute it to open a case with it' : 'This relationship is not active yet');
  }

  function announce(record: ServiceCaseRecord, by: 'her' | 'company'): void {
    events.emit({ type: 'service.case_updated', caseId: record.id, relationshipId: record.relationshipId, thingId: record.thingId, state: record.state, by });
  }

  /** Sends her reply or resolve and, once acknowledged, adds it to her thread. */
  async function send(reference: string, kind: 'reply' | 'resolve', text: string | undefined): Promise<ServiceCaseView> {
    const record = find(reference);
    const relationship = vault.relationships.get(record.relationshipId);
    if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
    core.requireLive(relationship);
    if (record.state === 'resolved') throw new ServiceError('service.case_resolved', 'The service case is resolved');
    const messageId = newId();
    const message = kind === 'reply' ? outgoing(Service.caseReply, { case_id: record.id, text: text ?? '' }) : outgoing(Service.caseResolve, { case_id: record.id, ...(text === undefined ? {} : { text }) });
    const reply = await core.exchange(relationship, message, {
      id: messageId,
      returnRoute: true,
      expects: [Service.ack],
      unexpectedReply: { code: 'message.unexpected', message: 'The company did not acknowledge the message' },
    });
    if (!reply) throw new MessageError('message.unexpected', 'The company did not acknowledge the message');
    const { state } = caseAckBodySchema.parse(reply.message.body);
    const updated = vault.serviceCases.append(record.id, { author: 'her', kind, text: text ?? null, messageId, at: clock.now() }, kind === 'resolve' ? 'resolved' : state);
    if (!updated) throw new ServiceError('service.unknown_case', 'No such service case');
    logger.info(kind === 'resolve' ? 'service_case_resolved' : 'service_case_reply', { relationship: relationship.id, case: record.id, by: 'her' });
    announce(updated, 'her');
    return view(updated);
  }

  return {
    list(thing) {
      const thingId = thing === undefined ? undefined : things.get(thing).id;
      return vault.serviceCases.list(thingId === undefined ? {} : { thingId }).map(view);
    },

    get: (reference) => view(find(reference)),

    async open(reference, input) {
      const parsed = openCaseInputSchema.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      const { text, with: named, share = [], identifier: identifierRef } = parsed.data;
      const thing = things.get(reference);
      const relationship = supporter(thing, named);
      live(relationship);
      const shared = shareOf(thing, share);
      const identifier = identifierRef === undefined ? undefined : pickIdentifier(relationship.id, identifierRef);
      // A claim under warranty when one of its warranties covers today (in force, or ending but not over).
      const warrantyClaim = thing.contracts.some((c) => c.kind === 'warranty' && (c.status === 'active' || c.status === 'ending'));
      const caseId = newId();
      const messageId = newId();
      const body = Service.caseOpen.body.safeParse({ case_id: caseId, thing: shared, text, warranty_claim: warrantyClaim, ...(identifier === undefined ? {} : { identifier }) });
      if (!body.success) throw invalid(body.error);
      // Kept before sending, so the company's ack finds its case; taken back if the company did not take it.
      vault.serviceCases.insert({
        id: caseId,
        thingId: thing.id,
        relationshipId: relationship.id,
        state: 'open',
        warrantyClaim,
        thingName: thing.name,
        shared,
        identifier: identifier ?? null,
        thread: [{ author: 'her', kind: 'open', text, messageId, at: clock.now() }],
      });
      try {
        const reply = await core.exchange(relationship, outgoing(Service.caseOpen, body.data), {
          id: messageId,
          returnRoute: true,
          expects: [Service.ack],
          unexpectedReply: { code: 'message.unexpected', message: 'The company did not acknowledge the case' },
        });
        if (!reply) throw new MessageError('message.unexpected', 'The company did not acknowledge the case');
      } catch (error) {
        vault.serviceCases.remove(caseId);
        throw error;
      }
      const record = find(caseId);
      logger.info('service_case_opened', { relationship: relationship.id, case: caseId, warranty_claim: warrantyClaim, shared: Object.keys(shared).length });
      announce(record, 'her');
      return view(record);
    },

    async reply(reference, input) {
      const parsed = caseTextInputSchema.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      return send(reference, 'reply', parsed.data.text);
    },

    async resolve(reference, input = {}) {
      const parsed = caseResolveInputSchema.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      return send(reference, 'resolve', parsed.data.text);
    },
  };
}

import { agreementShortName } from '../protocol/terms/roster.js';
import type { MessageRecord } from './vault/messageRepo.js';
import type { AgreementStanding } from './vault/agreementRepo.js';
import type { DisclosedField } from './vault/disclosedFieldRepo.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import { personaOf } from './vault/personaRepo.js';
import type { Vault } from './vault/vault.js';

/** One thing a company holds about her, and why: the per-relationship "what do they know" view. */
export interface HeldItem {
  /** `field` for one disclosed field (or credential claim); `identifier` and `messages` otherwise. */
  category: string;
  detail: string;
  why: string;
  /** For fields: the name, the value as given, at which of her profile versions, under which consent. */
  field?: string;
  value?: unknown;
  version?: number;
  source?: 'self' | 'credential';
  issuer?: string | null;
  consentRecordId?: string;
  retention?: string | null;
  since?: number;
}

/** The terms in force with a company (IEEE 7012 agreement both signed), and what waits for her. */
export interface TermsSummary {
  /** The agreement in force (URI) and its short name, or null when none was agreed. */
  agreementId: string | null;
  name: string | null;
  outcome: 'accepted' | 'countered-accepted' | null;
  recordId: string | null;
  since: number | null;
  /** The last negotiation's state when nothing is in force (e.g. rejected), else null. */
  lastState: string | null;
  /** A counter or company proffer waits for her answer. */
  awaitingHer: boolean;
}

/** A relationship as the CLI, API and UI show it. */
export interface RelationshipView {
  id: string;
  company: string | null;
  state: RelationshipRecord['state'];
  customerRef: string | null;
  myDid: string;
  theirDid: string;
  createdAt: number;
  updatedAt: number;
  messages: number;
  queued: number;
  holds: HeldItem[];
  terms: TermsSummary;
  /** Her other relationship with the same company, when she linked them (an accepted anonymous intent's), else null. */
  linkedTo: string | null;
  /** The persona (her self) this company knows; label null once that persona is removed (a cut-off company's). */
  persona: { id: string; label: string | null };
}

export interface MessageView {
  id: string;
  messageId: string;
  direction: 'in' | 'out';
  status: MessageRecord['status'];
  type: string;
  content: string | undefined;
  body: unknown;
  createdAt: number;
}

export interface ReceiptView {
  id: string;
  relationshipId: string;
  kind: string;
  body: unknown;
  /** The company's signed JWS, verifiable against its DID. */
  jws: string;
  createdAt: number;
}

/** What a relationship's view needs beyond the record, read for one relationship or for all at once. */
interface ViewParts {
  messages: number;
  queued: number;
  disclosed: readonly DisclosedField[];
  terms: Readonly<AgreementStanding> | undefined;
  /** The label of the persona this company knows her by. */
  personaLabel: string | null;
}

function personaLabels(vault: Vault): Map<string, string> {
  return new Map(vault.personas.list().map((p) => [p.id, p.label]));
}

export function toRelationshipView(record: RelationshipRecord, vault: Vault): RelationshipView {
  return viewOf(record, {
    messages: vault.messages.countByRelationship(record.id),
    queued: vault.outbox.countPending(record.id),
    disclosed: vault.disclosed.list(record.id),
    terms: vault.agreements.standing(record.id),
    personaLabel: personaLabels(vault).get(personaOf(record)) ?? null,
  });
}

/**
 * Her relationship list for one vault, asked for again and again (the page, the CLI). The whole
 * list is kept while nothing in the vault changed (vault.contentVersion: any row changed on this
 * connection, or another's commit). Otherwise it is built with one query per table, not four per
 * relationship, reusing each relationship's view while what it is built from is the same: the
 * same (kept, frozen) record, holdings and terms objects, the same counts and persona label. After
 * a message arrives only that relationship's view is built anew; with 10,000 relationships
 * building all of them was most of a refresh. Views are frozen: callers share them.
 */
export class RelationshipListViews {
  readonly #vault: Vault;
  #built = new Map<string, { record: RelationshipRecord; parts: ViewParts; view: RelationshipView }>();
  #whole: { version: string; views: readonly RelationshipView[] } | undefined;

  constructor(vault: Vault) {
    this.#vault = vault;
  }

  /** Every relationship's view, oldest first; each call its own array. */
  list(): RelationshipView[] {
    const version = this.#vault.contentVersion();
    if (version !== undefined && this.#whole?.version === version) return [...this.#whole.views];
    const views = this.#build(this.#vault.relationships.list());
    if (version !== undefined) this.#whole = { version, views };
    return [...views];
  }

  #build(records: readonly RelationshipRecord[]): RelationshipView[] {
    const vault = this.#vault;
    const messages = vault.messages.countsByRelationship();
    const queued = vault.outbox.countsByRelationship();
    const disclosed = vault.disclosed.byRelationship();
    const standings = vault.agreements.standings();
    const labels = personaLabels(vault);
    const built = new Map<string, { record: RelationshipRecord; parts: ViewParts; view: RelationshipView }>();
    const views = records.map((record) => {
      const parts: ViewParts = {
        messages: messages.get(record.id) ?? 0,
        queued: queued.get(record.id) ?? 0,
        disclosed: disclosed.get(record.id) ?? NOTHING_HELD,
        terms: standings.get(record.id),
        personaLabel: labels.get(personaOf(record)) ?? null,
      };
      const prior = this.#built.get(record.id);
      const view = prior !== undefined && prior.record === record && sameParts(prior.parts, parts) ? prior.view : freezeView(viewOf(record, parts));
      built.set(record.id, { record, parts, view });
      return view;
    });
    this.#built = built;
    return views;
  }
}

const NOTHING_HELD: readonly DisclosedField[] = Object.freeze([]);

function sameParts(a: ViewParts, b: ViewParts): boolean {
  return a.messages === b.messages && a.queued === b.queued && a.disclosed === b.disclosed && a.terms === b.terms && a.personaLabel === b.personaLabel;
}

function freezeView(view: RelationshipView): RelationshipView {
  Object.freeze(view.holds);
  Object.freeze(view.persona);
  Object.freeze(view.terms);
  return Object.freeze(view);
}

function viewOf(record: RelationshipRecord, parts: ViewParts): RelationshipView {
  const { messages } = parts;
  const holds: HeldItem[] =
    record.state === 'cut_off'
      ? []
      : [
          { category: 'identifier', detail: 'a pairwise DID made for this company alone', why: 'to reach you through your agent' },
          { category: 'messages', detail: `${messages} ${messages === 1 ? 'message' : 'messages'} in your thread`, why: 'the conversation you have with it' },
          ...parts.disclosed.map((held) => ({
            category: 'field',
            detail: held.source === 'credential' ? `${held.field} (from a credential)` : held.field,
            why: held.purpose,
            field: held.field,
            value: held.value,
            version: held.version,
            source: held.source,
            issuer: held.issuer,
            consentRecordId: held.consentRecordId,
            retention: held.retention,
            since: held.disclosedAt,
          })),
        ];
  return {
    id: record.id,
    company: record.vendorName,
    state: record.state,
    customerRef: record.customerRef,
    linkedTo: record.linkedTo ?? null,
    persona: { id: personaOf(record), label: parts.personaLabel },
    myDid: record.myDid,
    theirDid: record.theirDid,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    messages,
    queued: parts.queued,
    holds,
    terms: termsSummary(parts.terms),
  };
}

function termsSummary(standing: Readonly<AgreementStanding> | undefined): TermsSummary {
  const current = standing?.inForce ?? null;
  return {
    agreementId: current?.agreementId ?? null,
    name: current ? agreementShortName(current.agreementId) : null,
    outcome: current?.outcome ?? null,
    recordId: current?.id ?? null,
    since: current?.since ?? null,
    lastState: standing?.lastState ?? null,
    awaitingHer: standing?.awaitingHer ?? false,
  };
}

export function toMessageView(record: MessageRecord): MessageView {
  const body = record.body as { content?: unknown; comment?: unknown } | null;
  const content = typeof body?.content === 'string' ? body.content : typeof body?.comment === 'string' ? body.comment : undefined;
  return { id: record.id, messageId: record.messageId, direction: record.direction, status: record.status, type: record.type, content, body: record.body, createdAt: record.createdAt };
}

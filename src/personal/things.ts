import { z } from 'zod';
import { ThingError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import { calendarDateSchema } from '../protocol/families/intent.js';
import { attachmentKindSchema, contractEnd, contractKindSchema, durationSchema, thingFieldsSchema, thingRoleSchema, type AttachmentKind, type Contract, type ThingFields, type ThingRole } from '../protocol/things/fields.js';
import type { AgentCore } from './core.js';
import { fileNameSchema, type AttachmentRecord } from './vault/attachmentRepo.js';
import type { Recall, ThingRecord } from './vault/thingRepo.js';

/** How a contract stands today: not begun, in force, ending within {@link ENDING_DAYS} days, or over. */
export type ContractStatus = 'upcoming' | 'active' | 'ending' | 'ended';

/** Within this many days of its end a contract counts as ending (the list's badge, `kith things due`'s default). */
export const ENDING_DAYS = 60;
/** The days before a contract's end at which she is reminded, once each (thing.warranty_ending). */
export const REMINDER_THRESHOLDS: readonly number[] = [60, 30, 7];

export interface ContractView extends Contract {
  /** The last day it covers (ISO date). */
  end: string;
  status: ContractStatus;
  /** Days from today to its last day (negative once over). */
  daysLeft: number;
}

export interface AttachmentView {
  id: string;
  thingId: string;
  kind: AttachmentKind;
  fileName: string;
  contentType: string;
  size: number;
  createdAt: number;
}

export interface ThingLinkView {
  relationshipId: string;
  role: ThingRole;
  /** The company's name as she knows it (null if it gave none). */
  companyName: string | null;
}

/** A thing as her web app and CLI show it. */
export interface ThingView extends ThingFields {
  id: string;
  contracts: ContractView[];
  links: ThingLinkView[];
  attachments: AttachmentView[];
  /** The best of its warranties today ('none' without one). */
  warranty: ContractStatus | 'none';
  /** Recalls and safety notices its maker sent (docs/protocol/thing.md), newest first: shown before anything else. */
  recalls: Recall[];
  /** Her registrations of it with its maker: which relationship, which fields she shared. */
  registrations: { relationshipId: string; companyName: string | null; fields: string[]; at: number }[];
  /** The seller's signed receipt she accepted it from, if any (the signed document itself is in the export). */
  proofOfPurchase: { relationshipId: string; companyName: string | null; receivedAt: number } | null;
  createdAt: number;
  updatedAt: number;
}

/** A contract ending soon, with its thing. */
export interface DueView {
  thingId: string;
  thingName: string;
  contract: ContractView;
}

/** A contract as she gives it: `id` only when she edits one she has. */
export const contractInputSchema = z.strictObject({
  id: z.uuid().optional(),
  kind: contractKindSchema,
  start: calendarDateSchema,
  duration: durationSchema,
  scope: z.string().min(1).max(500).optional(),
  provider: z.string().min(1).max(200).optional(),
});
export type ContractInput = z.infer<typeof contractInputSchema>;

/** A company's part, as she names it: the relationship by id, id prefix or company name. */
export const linkInputSchema = z.strictObject({ relationship: z.string().min(1).max(200), role: thingRoleSchema });
export type LinkInput = z.infer<typeof linkInputSchema>;

/** A new thing: its fields, and optionally its contracts and companies. */
export const thingInputSchema = thingFieldsSchema.extend({
  contracts: z.array(contractInputSchema).max(20).optional(),
  links: z.array(linkInputSchema).max(20).optional(),
});
export type ThingInput = z.input<typeof thingInputSchema>;

const optionalFields = ['brand', 'model', 'gtin', 'mpn', 'serialNumber', 'purchaseDate', 'price', 'seller', 'location', 'notes'] as const;
type OptionalField = (typeof optionalFields)[number];

/**
 * A change: the fields given replace the thing's, `null` clears one; `contracts` and `links`, when
 * given, replace the whole list.
 */
export const thingPatchSchema = z
  .strictObject({
    name: thingFieldsSchema.shape.name.optional(),
    ...(Object.fromEntries(optionalFields.map((f) => [f, thingFieldsSchema.shape[f].unwrap().nullable().optional()])) as {
      [F in OptionalField]: z.ZodOptional<z.ZodNullable<ReturnType<(typeof thingFieldsSchema.shape)[F]['unwrap']>>>;
    }),
    contracts: z.array(contractInputSchema).max(20).optional(),
    links: z.array(linkInputSchema).max(20).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'at least one change' });
export type ThingPatch = z.input<typeof thingPatchSchema>;

export interface NewDocument {
  kind: AttachmentKind;
  fileName: string;
  /** The type it claims; its first bytes must agree. */
  contentType: string;
  bytes: Uint8Array;
}

export interface ThingsFeature {
  /** Oldest first. */
  list(): ThingView[];
  /** @throws ThingError `thing.unknown` */
  get(reference: string): ThingView;
  /** @throws ThingError `thing.invalid` (naming the fields at fault); RelationshipError `relationship.unknown` */
  add(input: unknown): ThingView;
  /** @throws ThingError `thing.unknown` | `thing.invalid`; RelationshipError `relationship.unknown` */
  edit(reference: string, patch: unknown): ThingView;
  /** Deletes the thing with its documents. @throws ThingError `thing.unknown` */
  remove(reference: string): void;
  /** @throws ThingError `thing.unknown`, `thing.invalid`, and the document checks of AttachmentRepo.insert */
  attach(reference: string, document: NewDocument): AttachmentView;
  /** One document's file. @throws ThingError `thing.unknown` | `thing.attachment_unknown` */
  document(reference: string, attachmentId: string): { attachment: AttachmentView; bytes: Buffer };
  /** @throws ThingError `thing.unknown` | `thing.attachment_unknown` */
  detach(reference: string, attachmentId: string): void;
  /** Contracts in force whose last day is at most `withinDays` days away, soonest first. */
  due(withinDays?: number): DueView[];
  /**
   * Emits `thing.warranty_ending` for each contract that crossed a reminder threshold since the
   * last call, once per contract and threshold (remembered in the thing), and returns how many.
   */
  remind(): number;
  /** Every thing with its documents' files, for the inventory and the export. */
  documents(thingId: string): { attachment: AttachmentView; bytes: Buffer }[];
}

/** Today's date in UTC (contracts are dated by calendar day). */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Days since 1970-01-01 of an ISO date, from its digits (no Date parsing: a list computes thousands). */
function dayNumber(iso: string): number {
  const y = Number(iso.slice(0, 4));
  const m = Number(iso.slice(5, 7));
  const d = Number(iso.slice(8, 10));
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/**
 * Contract ends by start and duration: a list of a thousand things has a few distinct ones, and
 * computing each took most of a cold list (profiled with --cpu-prof, issue 13 item 8). Bounded.
 */
const contractEnds = new Map<string, string>();
function cachedContractEnd(start: string, duration: string): string {
  const key = `${start}|${duration}`;
  let end = contractEnds.get(key);
  if (end === undefined) {
    end = contractEnd(start, duration);
    if (contractEnds.size >= 10_000) contractEnds.clear();
    contractEnds.set(key, end);
  }
  return end;
}

export function contractView(contract: Contract, today: string): ContractView {
  const end = cachedContractEnd(contract.start, contract.duration);
  const daysLeft = daysBetween(today, end);
  const status: ContractStatus = contract.start > today ? 'upcoming' : daysLeft < 0 ? 'ended' : daysLeft <= ENDING_DAYS ? 'ending' : 'active';
  return { ...contract, end, status, daysLeft };
}

const STATUS_RANK: Record<ContractStatus, number> = { active: 3, upcoming: 2, ending: 1, ended: 0 };

function attachmentView(record: AttachmentRecord): AttachmentView {
  const { id, thingId, kind, fileName, contentType, size, createdAt } = record;
  return { id, thingId, kind, fileName, contentType, size, createdAt };
}

function invalid(error: z.ZodError): ThingError {
  const issues = describeZodIssues(error);
  return new ThingError('thing.invalid', `Invalid thing: ${error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`, {
    details: { fields: [...new Set(error.issues.map((i) => i.path.map(String).join('.') || '(root)'))], issues },
  });
}

export function createThingsFeature(core: AgentCore): ThingsFeature {
  const { vault, clock } = core;

  /** The company's name for each link; `names` caches them across one list (a relationship opens once). */
  function companyName(relationshipId: string, names?: Map<string, string | null>): string | null {
    const cached = names?.get(relationshipId);
    if (cached !== undefined) return cached;
    const name = vault.relationships.get(relationshipId)?.vendorName ?? null;
    names?.set(relationshipId, name);
    return name;
  }

  /**
   * Views kept by record (records are kept frozen by the repository, and replaced when written):
   * reused while the day, the documents and the companies' names are the same, so listing a
   * thousand things does not rebuild a thousand views and their contracts' dates.
   */
  const views = new WeakMap<ThingRecord, { key: string; view: ThingView }>();

  function view(record: ThingRecord, attachments: AttachmentRecord[], today: string, names?: Map<string, string | null>): ThingView {
    const key = `${today}|${attachments.map((a) => a.id).join(',')}|${record.links.map((l) => companyName(l.relationshipId, names)).join(',')}`;
    const kept = views.get(record);
    if (kept?.key === key) return kept.view;
    const built = buildView(record, attachments, today, names);
    if (Object.isFrozen(record)) views.set(record, { key, view: built });
    return built;
  }

  function buildView(record: ThingRecord, attachments: AttachmentRecord[], today: string, names?: Map<string, string | null>): ThingView {
    const { contracts, links, reminded: _reminded, proofOfPurchase, registrations, recalls = [], ...rest } = record;
    const contractViews = contracts.map((c) => contractView(c, today));
    const warranties = contractViews.filter((c) => c.kind === 'warranty');
    const best = warranties.reduce<ContractStatus | 'none'>((acc, c) => (acc === 'none' || STATUS_RANK[c.status] > STATUS_RANK[acc] ? c.status : acc), 'none');
    return {
      ...rest,
      contracts: contractViews,
      links: links.map((l) => ({ ...l, companyName: companyName(l.relationshipId, names) })),
      attachments: attachments.map(attachmentView),
      warranty: best,
      recalls: [...recalls].reverse(),
      registrations: registrations.map((r) => ({ relationshipId: r.relationshipId, companyName: companyName(r.relationshipId, names), fields: r.fields, at: r.at })),
      proofOfPurchase:
        proofOfPurchase === undefined ? null : { relationshipId: proofOfPurchase.relationshipId, companyName: companyName(proofOfPurchase.relationshipId, names), receivedAt: proofOfPurchase.receivedAt },
    };
  }

  /** By id or a unique id prefix of at least 4 characters. */
  function find(reference: string): ThingRecord {
    const exact = vault.things.get(reference);
    if (exact) return exact;
    const matches = reference.length >= 4 ? vault.things.ids().filter((id) => id.startsWith(reference)) : [];
    const record = matches.length === 1 && matches[0] ? vault.things.get(matches[0]) : undefined;
    if (!record) throw new ThingError('thing.unknown', matches.length > 1 ? 'Ambiguous thing reference' : 'No such thing');
    return record;
  }

  function findDocument(thing: ThingRecord, attachmentId: string): AttachmentRecord {
    const record = vault.attachments.list(thing.id).find((a) => a.id === attachmentId || (attachmentId.length >= 4 && a.id.startsWith(attachmentId)));
    if (!record) throw new ThingError('thing.attachment_unknown', 'No such document of this thing');
    return record;
  }

  /** Relationship references to ids; a link given twice is given once. @throws RelationshipError `relationship.unknown` */
  function resolveLinks(links: readonly LinkInput[]): { relationshipId: string; role: ThingRole }[] {
    const seen = new Set<string>();
    return links.flatMap((link) => {
      const relationshipId = core.find(link.relationship).id;
      const key = `${relationshipId} ${link.role}`;
      if (seen.has(key)) return [];
      seen.add(key);
      return [{ relationshipId, role: link.role }];
    });
  }

  const contracts = (inputs: readonly ContractInput[]): Contract[] => inputs.map(({ id = newId(), ...rest }) => ({ id, ...rest }));

  function documentsOf(thingId: string): AttachmentRecord[] {
    return vault.attachments.list(thingId);
  }

  let listCache: { key: string; views: readonly ThingView[] } | undefined;

  /** Every thing's view: the documents grouped by thing in one pass, each company's name read once. */
  function listViews(today: string): ThingView[] {
    const byThing = new Map<string, AttachmentRecord[]>();
    for (const a of vault.attachments.list()) {
      const list = byThing.get(a.thingId);
      if (list) list.push(a);
      else byThing.set(a.thingId, [a]);
    }
    const names = new Map<string, string | null>();
    return vault.things.list().map((t) => view(t, byThing.get(t.id) ?? [], today, names));
  }

  return {
    list() {
      const today = isoDay(clock.now());
      // The whole list is kept while nothing in the vault changed and the day is the same (a
      // company's new name, a document, an edit: each is a write, and changes the version).
      const version = vault.contentVersion();
      const key = version === undefined ? undefined : `${today}|${version}`;
      if (key !== undefined && listCache?.key === key) return [...listCache.views];
      const views = listViews(today);
      if (key !== undefined) listCache = { key, views };
      return [...views];
    },

    get(reference) {
      const record = find(reference);
      return view(record, documentsOf(record.id), isoDay(clock.now()));
    },


    add(input) {
      const parsed = thingInputSchema.safeParse(input);
      if (!parsed.success) throw invalid(parsed.error);
      const { contracts: contractInputs = [], links = [], ...fields } = parsed.data;
      const record = vault.things.insert({ ...fields, contracts: contracts(contractInputs), links: resolveLinks(links) });
      return view(record, [], isoDay(clock.now()));
    },

    edit(reference, patch) {
      const current = find(reference);
      const parsed = thingPatchSchema.safeParse(patch);
      if (!parsed.success) throw invalid(parsed.error);
      const { contracts: contractInputs, links, ...changes } = parsed.data;
      const next: Record<string, unknown> = { ...current };
      for (const [field, value] of Object.entries(changes)) {
        if (value === null) delete next[field];
        else if (value !== undefined) next[field] = value;
      }
      if (contractInputs !== undefined) next['contracts'] = contracts(contractInputs);
      if (links !== undefined) next['links'] = resolveLinks(links);
      const { createdAt: _c, updatedAt: _u, ...rest } = next as ThingRecord;
      const updated = vault.things.update(rest);
      if (!updated) throw new ThingError('thing.unknown', 'No such thing');
      return view(updated, documentsOf(updated.id), isoDay(clock.now()));
    },

    remove(reference) {
      const record = find(reference);
      if (!vault.things.remove(record.id)) throw new ThingError('thing.unknown', 'No such thing');
    },

    attach(reference, document) {
      const record = find(reference);
      const checked = z.strictObject({ kind: attachmentKindSchema, fileName: fileNameSchema }).safeParse({ kind: document.kind, fileName: document.fileName });
      if (!checked.success) throw invalid(checked.error);
      return attachmentView(vault.attachments.insert({ thingId: record.id, kind: checked.data.kind, fileName: checked.data.fileName, contentType: document.contentType, bytes: document.bytes }));
    },

    document(reference, attachmentId) {
      const attachment = findDocument(find(reference), attachmentId);
      const bytes = vault.attachments.content(attachment.id);
      if (!bytes) throw new ThingError('thing.attachment_unknown', 'No such document of this thing');
      return { attachment: attachmentView(attachment), bytes };
    },

    detach(reference, attachmentId) {
      const attachment = findDocument(find(reference), attachmentId);
      vault.attachments.remove(attachment.id);
    },

    due(withinDays = ENDING_DAYS) {
      const today = isoDay(clock.now());
      return vault.things
        .list()
        .flatMap((thing) =>
          thing.contracts
            .map((c) => contractView(c, today))
            .filter((c) => c.status !== 'upcoming' && c.daysLeft >= 0 && c.daysLeft <= withinDays)
            .map((contract) => ({ thingId: thing.id, thingName: thing.name, contract })),
        )
        .sort((a, b) => a.contract.daysLeft - b.contract.daysLeft);
    },

    remind() {
      const today = isoDay(clock.now());
      let emitted = 0;
      for (const thing of vault.things.list()) {
        const reminded = new Set(thing.reminded);
        const announce: { contract: ContractView; threshold: number }[] = [];
        for (const contract of thing.contracts.map((c) => contractView(c, today))) {
          if (contract.status === 'upcoming' || contract.daysLeft < 0) continue;
          // Every threshold it is within, remembered at once: a contract first seen 5 days from its
          // end is announced once (at the 7-day threshold), not three times.
          const crossed = REMINDER_THRESHOLDS.filter((t) => contract.daysLeft <= t && !reminded.has(`${contract.id}:${t}:${contract.end}`));
          if (crossed.length === 0) continue;
          for (const t of crossed) reminded.add(`${contract.id}:${t}:${contract.end}`);
          announce.push({ contract, threshold: Math.min(...crossed) });
        }
        if (announce.length === 0) continue;
        // Remembered before the events go out: a failed write announces nothing, twice or once.
        const { createdAt: _c, updatedAt: _u, ...rest } = thing;
        vault.things.update({ ...rest, reminded: [...reminded].slice(-200) }, thing.updatedAt);
        for (const { contract, threshold } of announce) {
          core.events.emit({ type: 'thing.warranty_ending', thingId: thing.id, contractId: contract.id, kind: contract.kind, endsOn: contract.end, daysLeft: contract.daysLeft, threshold });
          emitted++;
        }
      }
      return emitted;
    },

    documents(thingId) {
      return documentsOf(thingId).map((a) => ({ attachment: attachmentView(a), bytes: vault.attachments.content(a.id) ?? Buffer.alloc(0) }));
    },
  };
}

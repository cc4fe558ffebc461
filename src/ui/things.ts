import type { ThingFieldsBody, ThingPatchBody } from '../personal/http/apiContract.js';
import { parseDuration, thingFieldsSchema } from '../protocol/things/fields.js';
import type { ApiFailure } from './api';
import type { Tone } from './components/ui';
import { formatBytes, formatIsoDate, plural } from './format';
import type { AttachmentView, ContractInput, ContractView, LinkInput, ThingView } from './types';

/*
 * Her things in words (issue 13, decision 0019), and the forms' drafts: a thing's fields are checked
 * here with the schema the agent checks them with (src/protocol/things/fields.ts), each failure
 * naming the field, so a mistyped GTIN or currency is said next to its control before anything is
 * sent. What only the agent can judge (a document's size and first bytes) comes back as its error
 * codes, put in words by documentError.
 */

// ---------------------------------------------------------------------------------------------
// Words

/**
 * Within this many days of its end a contract is "due soon": the agent's ENDING_DAYS
 * (src/personal/things.ts, which the app cannot bundle), the default of /api/things/due and of
 * `kith things due`; things.test.ts holds the two equal.
 */
export const DUE_DAYS = 60;

export type WarrantyState = ThingView['warranty'];

/** A thing's warranty today, in words and a tone (colour never alone: the words are the badge). */
export const WARRANTY_STATE: Record<WarrantyState, { text: string; tone: Tone }> = {
  active: { text: 'In force', tone: 'good' },
  ending: { text: 'Ending soon', tone: 'warn' },
  ended: { text: 'Ended', tone: 'bad' },
  upcoming: { text: 'Not begun yet', tone: 'info' },
  none: { text: 'None', tone: 'neutral' },
};

export const CONTRACT_KIND: Record<ContractView['kind'], string> = { warranty: 'Warranty', service: 'Service contract' };

export const ROLES: readonly (readonly [LinkInput['role'], string])[] = [
  ['maker', 'Maker'],
  ['seller', 'Seller'],
  ['servicer', 'Repairs and service'],
  ['insurer', 'Insurer'],
];
export const roleLabel = (role: LinkInput['role']): string => ROLES.find(([r]) => r === role)?.[1] ?? role;

export const DOCUMENT_KINDS: readonly (readonly [AttachmentView['kind'], string])[] = [
  ['photo', 'Photo'],
  ['receipt', 'Receipt'],
  ['warranty', 'Warranty paper'],
  ['manual', 'Manual'],
  ['other', 'Other'],
];
export const documentKindLabel = (kind: AttachmentView['kind']): string => DOCUMENT_KINDS.find(([k]) => k === kind)?.[1] ?? kind;

/** The types the agent keeps (src/protocol/things/media.ts), for the file picker and the error words. */
export const DOCUMENT_ACCEPT = 'application/pdf,image/jpeg,image/png,image/gif,image/webp,text/plain';
const TYPE_NAMES: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/jpeg': 'JPEG image',
  'image/png': 'PNG image',
  'image/gif': 'GIF image',
  'image/webp': 'WebP image',
  'text/plain': 'text file',
};

/** Images are shown as thumbnails; the rest only downloaded. */
export function isImage(contentType: string): boolean {
  return contentType === 'image/jpeg' || contentType === 'image/png' || contentType === 'image/gif' || contentType === 'image/webp';
}

/** "ends in 12 days, on 3 Mar 2027", "ends today", "ended on …", "starts on …". */
export function contractWhen(contract: Pick<ContractView, 'status' | 'daysLeft' | 'start' | 'end'>): string {
  const end = formatIsoDate(contract.end);
  if (contract.status === 'upcoming') return `starts on ${formatIsoDate(contract.start)}, ends on ${end}`;
  if (contract.daysLeft < 0) return `ended on ${end}`;
  if (contract.daysLeft === 0) return `ends today, ${end}`;
  return `ends in ${plural(contract.daysLeft, 'day')}, on ${end}`;
}

/** A contract's own status in words (its thing's warranty badge uses the same words). */
export function contractState(contract: Pick<ContractView, 'status'>): { text: string; tone: Tone } {
  return WARRANTY_STATE[contract.status];
}

/** "2 years", "6 months", "1 year 6 months", "90 days" for a duration the agent accepted. */
export function durationText(duration: string): string {
  const parts = parseDuration(duration);
  if (!parts) return duration;
  const out = [parts.years ? plural(parts.years, 'year') : '', parts.months ? plural(parts.months, 'month') : '', parts.days ? plural(parts.days, 'day') : ''].filter(Boolean);
  return out.join(' ');
}

/*
 * Her own changes to her contracts change what is due soon, and no agent event says so (the agent
 * announces reminders, not her edits): the pages say it here, and the navigation's count listens.
 */
const THINGS_CHANGED = 'kith:things-changed';

/** Her things' contracts changed in this tab (added, removed, a thing added or removed). */
export function announceThingsChanged(): void {
  window.dispatchEvent(new Event(THINGS_CHANGED));
}

/** @returns a function that stops listening. */
export function onThingsChanged(listener: () => void): () => void {
  window.addEventListener(THINGS_CHANGED, listener);
  return () => window.removeEventListener(THINGS_CHANGED, listener);
}

// ---------------------------------------------------------------------------------------------
// The thing's fields

/** The form's fields, as typed (strings; empty means "not given"). */
export interface ThingDraft {
  name: string;
  brand: string;
  model: string;
  gtin: string;
  mpn: string;
  serialNumber: string;
  purchaseDate: string;
  amount: string;
  currency: string;
  seller: string;
  location: string;
  notes: string;
}
export type ThingDraftField = keyof ThingDraft;
export type ThingDraftErrors = Partial<Record<ThingDraftField, string>>;

/** The order the form shows its fields in, for the list of what needs a look. */
export const THING_DRAFT_ORDER: readonly ThingDraftField[] = ['name', 'brand', 'model', 'gtin', 'mpn', 'serialNumber', 'purchaseDate', 'amount', 'currency', 'seller', 'location', 'notes'];

export const THING_FIELD_LABEL: Record<ThingDraftField, string> = {
  name: 'Name',
  brand: 'Brand',
  model: 'Model',
  gtin: 'GTIN (barcode)',
  mpn: 'Part number',
  serialNumber: 'Serial number',
  purchaseDate: 'Purchase date',
  amount: 'Price',
  currency: 'Currency',
  seller: 'Seller',
  location: 'Where it is',
  notes: 'Notes',
};

export function emptyThingDraft(): ThingDraft {
  return { name: '', brand: '', model: '', gtin: '', mpn: '', serialNumber: '', purchaseDate: '', amount: '', currency: '', seller: '', location: '', notes: '' };
}

/** The draft of a thing she has, for editing it. */
export function draftOf(thing: ThingView): ThingDraft {
  return {
    name: thing.name,
    brand: thing.brand ?? '',
    model: thing.model ?? '',
    gtin: thing.gtin ?? '',
    mpn: thing.mpn ?? '',
    serialNumber: thing.serialNumber ?? '',
    purchaseDate: thing.purchaseDate ?? '',
    amount: thing.price?.amount ?? '',
    currency: thing.price?.currency ?? '',
    seller: thing.seller ?? '',
    location: thing.location ?? '',
    notes: thing.notes ?? '',
  };
}

const TEXT_FIELDS = ['brand', 'model', 'gtin', 'mpn', 'serialNumber', 'purchaseDate', 'seller', 'location', 'notes'] as const;

/** What a field's failure says, in words naming the field. */
function fieldWords(field: ThingDraftField, schemaMessage: string): string {
  const label = THING_FIELD_LABEL[field];
  switch (field) {
    case 'name':
      return 'Name: give it a name (at most 200 characters).';
    case 'gtin':
      // The schema's own words say which rule: the length or the check digit.
      return `${label}: ${schemaMessage.startsWith('a GTIN') ? 'the 8, 12, 13 or 14 digits under the barcode' : `${schemaMessage}; check the digits under the barcode`}.`;
    case 'purchaseDate':
      return `${label}: a date, such as 2026-03-15.`;
    case 'amount':
      return `${label}: an amount such as 499.00, without the currency sign.`;
    case 'currency':
      return `${label}: an ISO 4217 currency code, such as EUR, USD or GBP.`;
    case 'notes':
      return `${label}: at most 4000 characters.`;
    case 'mpn':
      return `${label}: at most 100 characters.`;
    default:
      return `${label}: at most 200 characters.`;
  }
}

/** The draft field a path of the agent's (or the schema's) names: `price.amount` is the amount. */
export function draftFieldOf(path: string): ThingDraftField | undefined {
  if (path === 'price.amount' || path === 'price') return 'amount';
  if (path === 'price.currency') return 'currency';
  return (THING_DRAFT_ORDER as readonly string[]).includes(path) ? (path as ThingDraftField) : undefined;
}

/**
 * The draft checked as the agent will check it. `fields` is the body for adding it (empty fields
 * left out); with errors, nothing is to be sent.
 */
export function checkThingDraft(draft: ThingDraft): { errors: ThingDraftErrors; fields?: ThingFieldsBody } {
  const errors: ThingDraftErrors = {};
  const candidate: Record<string, unknown> = { name: draft.name.trim() };
  for (const field of TEXT_FIELDS) {
    const value = field === 'notes' ? draft.notes : draft[field].trim();
    if (value.trim() !== '') candidate[field] = value;
  }
  const amount = draft.amount.trim().replace(',', '.');
  const currency = draft.currency.trim().toUpperCase();
  // A price is the two together: an amount without its currency means nothing.
  if (amount !== '' && currency === '') errors.currency = 'Currency: give the currency of the price, such as EUR.';
  else if (amount === '' && currency !== '') errors.amount = 'Price: give the amount, or clear the currency.';
  else if (amount !== '') candidate['price'] = { amount, currency };
  const parsed = thingFieldsSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = draftFieldOf(issue.path.map(String).join('.'));
      if (field && !errors[field]) errors[field] = fieldWords(field, issue.message);
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { errors };
  return { errors, fields: parsed.data as ThingFieldsBody };
}

/**
 * The change from `thing` to the draft: only the fields she changed, a cleared one as null (the
 * agent removes it). Undefined when the draft has errors; an empty patch when nothing changed.
 */
export function patchOf(thing: ThingView, draft: ThingDraft): { errors: ThingDraftErrors; patch?: ThingPatchBody } {
  const { errors, fields } = checkThingDraft(draft);
  if (!fields) return { errors };
  const patch: ThingPatchBody = {};
  if (fields.name !== thing.name) patch.name = fields.name;
  for (const field of TEXT_FIELDS) {
    const next = fields[field];
    if (next !== thing[field]) patch[field] = next ?? null;
  }
  if (fields.price?.amount !== thing.price?.amount || fields.price?.currency !== thing.price?.currency) patch.price = fields.price ?? null;
  return { errors, patch };
}

/** The agent's thing.invalid, field by field (details.fields names them), for marking the controls. */
export function serverFieldErrors(failure: ApiFailure): ThingDraftErrors {
  const fields = failure.details?.['fields'];
  if (failure.code !== 'thing.invalid' || !Array.isArray(fields)) return {};
  const errors: ThingDraftErrors = {};
  for (const path of fields) {
    const field = typeof path === 'string' ? draftFieldOf(path) : undefined;
    if (field) errors[field] = fieldWords(field, '');
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Contracts and companies

export type DurationUnit = 'Y' | 'M' | 'D';
export const DURATION_UNITS: readonly (readonly [DurationUnit, string])[] = [
  ['Y', 'years'],
  ['M', 'months'],
  ['D', 'days'],
];

export interface ContractDraft {
  kind: ContractView['kind'];
  start: string;
  length: string;
  unit: DurationUnit;
  provider: string;
  scope: string;
}
export type ContractDraftErrors = Partial<Record<'start' | 'length' | 'provider' | 'scope', string>>;

export function emptyContractDraft(start = ''): ContractDraft {
  return { kind: 'warranty', start, length: '2', unit: 'Y', provider: '', scope: '' };
}

/** A new contract checked as the agent checks it (a start date, a duration of 1 to 999 units). */
export function checkContractDraft(draft: ContractDraft): { errors: ContractDraftErrors; contract?: ContractInput } {
  const errors: ContractDraftErrors = {};
  if (!/^\d{4}-\d{2}-\d{2}$/.test(draft.start) || Number.isNaN(Date.parse(`${draft.start}T00:00:00Z`))) errors.start = 'Starts on: the date it begins, usually the purchase date.';
  const length = draft.length.trim();
  if (!/^[1-9]\d{0,2}$/.test(length)) errors.length = 'Length: a whole number from 1 to 999.';
  if (draft.provider.trim().length > 200) errors.provider = 'Given by: at most 200 characters.';
  if (draft.scope.trim().length > 500) errors.scope = 'Covers: at most 500 characters.';
  if (Object.keys(errors).length > 0) return { errors };
  return {
    errors,
    contract: {
      kind: draft.kind,
      start: draft.start,
      duration: `P${length}${draft.unit}`,
      ...(draft.provider.trim() ? { provider: draft.provider.trim() } : {}),
      ...(draft.scope.trim() ? { scope: draft.scope.trim() } : {}),
    },
  };
}

/** The contracts she has, as the agent takes them back (ids kept, so their reminders stay remembered). */
export function contractInputs(thing: ThingView): ContractInput[] {
  return thing.contracts.map(({ id, kind, start, duration, scope, provider }) => ({ id, kind, start, duration, ...(scope ? { scope } : {}), ...(provider ? { provider } : {}) }));
}

/** The companies linked to it, as the agent takes them back. */
export function linkInputs(thing: ThingView): LinkInput[] {
  return thing.links.map((l) => ({ relationship: l.relationshipId, role: l.role }));
}

// ---------------------------------------------------------------------------------------------
// Documents

/** A file's content in base64, as the attach route takes it. */
export function fileBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error('The file could not be read.'));
    reader.readAsDataURL(file);
  });
}

/** A downloaded image's bytes as a data: URL (the app's CSP allows data: images, not blob: ones). */
export function dataUrl(bytes: Uint8Array, contentType: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('The image could not be read.'));
    reader.readAsDataURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType }));
  });
}

/**
 * Words for a refused document, naming the file: too large (with the limit), not what its type
 * says, a type Kith does not keep, no room left; anything else as the agent said it.
 */
export function documentError(failure: { code: string; message: string; details?: Readonly<Record<string, unknown>> | undefined }, file: { name: string; size: number; type: string }): string {
  const name = `“${file.name}”`;
  switch (failure.code) {
    case 'thing.attachment_too_large': {
      const limit = failure.details?.['limit'];
      return `${name} is too large (${formatBytes(file.size)}): a document may be at most ${typeof limit === 'number' ? formatBytes(limit) : 'the limit your agent sets'}. Nothing was added.`;
    }
    // Far over the limit, the agent refuses the request itself before reading it.
    case 'envelope.too_large':
      return `${name} is too large (${formatBytes(file.size)}) for a document. Nothing was added.`;
    case 'thing.attachment_type_mismatch':
      return `${name} is not what it says it is: it is named as a ${TYPE_NAMES[file.type] ?? file.type}, but its content is not one. Nothing was added. Choose the original file.`;
    case 'thing.attachment_type_unsupported':
      return `${name} is ${TYPE_NAMES[file.type] ? `a ${TYPE_NAMES[file.type]}` : file.type ? `of type ${file.type}` : 'of a type your browser could not tell'}: Kith keeps PDFs, JPEG, PNG, GIF and WebP images and text files. Nothing was added.`;
    case 'thing.attachments_full':
      return `No room for ${name}: your documents would go past their total limit. Nothing was added; remove documents you no longer need first.`;
    default:
      return failure.message;
  }
}

// ---------------------------------------------------------------------------------------------
// Receipts, registrations, recalls and service cases (docs/protocol/thing.md, service.md)

/** The claims a registration may share, in the order the form lists them, with the thing field each comes from. */
export const REGISTRATION_FIELDS: readonly { claim: string; field: keyof ThingView & keyof ThingFieldsBody; label: string }[] = [
  { claim: 'gtin', field: 'gtin', label: 'GTIN (barcode)' },
  { claim: 'model', field: 'model', label: 'Model' },
  { claim: 'serial_number', field: 'serialNumber', label: 'Serial number' },
  { claim: 'purchase_date', field: 'purchaseDate', label: 'Purchase date' },
  { claim: 'brand', field: 'brand', label: 'Brand' },
  { claim: 'name', field: 'name', label: 'Name' },
  { claim: 'mpn', field: 'mpn', label: 'Part number' },
  { claim: 'seller', field: 'seller', label: 'Seller' },
];

/** A registration's claim name in words ("serial_number" → "serial number"). */
export function claimLabel(claim: string): string {
  return (REGISTRATION_FIELDS.find((f) => f.claim === claim)?.label ?? claim.replace(/_/g, ' ')).replace(/^(?!GTIN)./, (c) => c.toLowerCase());
}

/**
 * What a registration will share: the claims she ticked and, when she ticked neither the GTIN nor
 * the model, those of the two the thing has (the agent adds them: a recall names them; thingProtocol.ts).
 */
export function registrationShares(thing: ThingView, ticked: readonly string[]): string[] {
  const shares = REGISTRATION_FIELDS.filter((f) => ticked.includes(f.claim) && thing[f.field] !== undefined).map((f) => f.claim);
  if (!shares.includes('gtin') && !shares.includes('model')) {
    if (thing.gtin !== undefined) shares.push('gtin');
    if (thing.model !== undefined) shares.push('model');
  }
  return shares;
}

/** The details a service case may carry (SHAREABLE_THING_FIELDS of the service family), in its order. */
export const CASE_FIELDS: readonly { field: 'name' | 'brand' | 'model' | 'gtin' | 'mpn' | 'serialNumber' | 'purchaseDate' | 'price' | 'seller'; label: string }[] = [
  { field: 'name', label: 'Name' },
  { field: 'brand', label: 'Brand' },
  { field: 'model', label: 'Model' },
  { field: 'gtin', label: 'GTIN (barcode)' },
  { field: 'mpn', label: 'Part number' },
  { field: 'serialNumber', label: 'Serial number' },
  { field: 'purchaseDate', label: 'Purchase date' },
  { field: 'price', label: 'Price' },
  { field: 'seller', label: 'Seller' },
];

/** A thing's detail (or a case's shared one) as the pages show it: a price with its currency, a date in words. */
export function detailText(source: object, field: string): string | undefined {
  const value = (source as Record<string, unknown>)[field];
  if (field === 'price') {
    const price = value as { amount?: unknown; currency?: unknown } | undefined;
    return price && typeof price.amount === 'string' && typeof price.currency === 'string' ? `${price.amount} ${price.currency}` : undefined;
  }
  if (field === 'purchaseDate' && typeof value === 'string') return formatIsoDate(value);
  return typeof value === 'string' ? value : undefined;
}

/** A case's state in words: who it waits for. */
export function caseStateText(state: 'open' | 'answered' | 'resolved', company: string): { text: string; tone: Tone } {
  if (state === 'open') return { text: `Open: waiting for ${company}`, tone: 'info' };
  if (state === 'answered') return { text: `Answered by ${company}`, tone: 'warn' };
  return { text: 'Resolved', tone: 'good' };
}

/** The order the agent picks the company a case goes to when she names none (serviceCases.ts SUPPORT_ORDER). */
const SUPPORT_ORDER = ['servicer', 'maker', 'seller'] as const;

/** The link a case goes to by default: the thing's servicer, else its maker, else its seller (the agent prefers a live one). */
export function defaultSupporter(thing: ThingView, live: (relationshipId: string) => boolean): ThingView['links'][number] | undefined {
  const candidates = SUPPORT_ORDER.flatMap((role) => thing.links.filter((l) => l.role === role));
  return candidates.find((l) => live(l.relationshipId)) ?? candidates[0];
}

/**
 * The agent's refusal of a registration, a case or a reply in her words (what she typed stays in
 * the form): a muted or cut-off company, no company to ask, a detail the thing lacks.
 */
export function serviceError(failure: { code: string; message: string }, company: string | undefined): string {
  const who = company ?? 'this company';
  switch (failure.code) {
    case 'relationship.not_active':
      return `You muted ${who}: unmute it on its page first. Nothing was sent.`;
    case 'relationship.cut_off':
      return `You cut off ${who}: nothing can be sent to it any more. Nothing was sent.`;
    case 'relationship.unknown':
      return 'That company is not one of your relationships. Nothing was sent.';
    case 'service.no_supporter':
      return 'No company made, sold or services this thing: link one under Companies first, or pick one. Nothing was sent.';
    case 'service.not_linked':
      return `${who} is not linked to this thing: link it under Companies first. Nothing was sent.`;
    case 'service.case_resolved':
      return 'This case is resolved: nothing more can be added to it.';
    case 'service.unknown_case':
      return 'This case is not in your vault any more.';
    case 'account.unknown':
      return `${who} does not know you by that identifier. Nothing was sent.`;
    case 'thing.invalid':
      return `${failure.message}. Nothing was sent.`.replace(/\.\. Nothing/, '. Nothing');
    case 'service.invalid':
      return `${failure.message}. Nothing was sent.`.replace(/\.\. Nothing/, '. Nothing');
    default:
      return failure.message;
  }
}

import type { ProfileFieldName } from './types';

export { OBLIGATION_NAME, PURPOSE, formatDuration, obligationLines, obligationName, type ObligationLine } from '../protocol/terms/words.js';

/*
 * Words for what the API answers in codes: dates, durations, field values, states, obligations.
 * The wording follows the CLI's where both show the same thing.
 */

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/**
 * Text a company wrote (its name, its messages, its offers and requests), shown so that it cannot
 * reorder what she reads: React escapes HTML, but Unicode bidi overrides, embeddings and isolates
 * (and the bidi marks) would still run as written, e.g. "invoice\u202Efdp.exe" reading as
 * "invoiceexe.pdf". Each is shown as a visible "[U+202E]" instead, in the order it was written.
 */
export function theirText(text: string): string {
  return text.replace(BIDI_CONTROLS, (char) => `[U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM, ALM. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/** "12 Mar 2026, 14:05". */
export function formatDateTime(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? dateTime.format(ms) : '—';
}

/** "12 Mar 2026". */
export function formatDate(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? dateOnly.format(ms) : '—';
}

/** Time only for today, the date and time otherwise (message threads). */
export function formatWhen(ms: number, now: number = Date.now()): string {
  const a = new Date(ms);
  const b = new Date(now);
  const sameDay = a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  return sameDay ? timeOnly.format(ms) : dateTime.format(ms);
}

/** An ISO date "1990-04-02" as a local date, without time zone shifts. */
export function formatIsoDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return value;
  return dateOnly.format(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1.2 MB" for byte counts. */
export function formatBytes(n: number): string {
  if (n < 1024) return plural(n, 'byte');
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** The last path segment of an agreement URI ("service-only"). */
export function shortName(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/** A DID shortened for a line of text; the full one goes in a title or a code block. */
export function shortDid(did: string): string {
  // Peer DIDs end in their encoded service (the same for every DID of one agent): keep the key part.
  return did.length > 36 ? `${did.slice(0, 30)}…` : did;
}

// ---------------------------------------------------------------------------------------------
// Profile fields

export type FieldInput = 'text' | 'email' | 'tel' | 'url' | 'date' | 'textarea' | 'address';

export interface FieldSpec {
  label: string;
  hint: string;
  input: FieldInput;
  autocomplete: string;
  /** A preference (how she likes to be served) rather than a fact about her: listed apart. */
  preference?: true;
}

/** Every profile field in the order the agent lists them (protocol/profile/fields.ts), with words and inputs. */
export const FIELD_SPECS = {
  name: { label: 'Full name', hint: 'Your full name, as you like it written', input: 'text', autocomplete: 'name' },
  given_name: { label: 'First name', hint: 'Your first (given) name', input: 'text', autocomplete: 'given-name' },
  family_name: { label: 'Last name', hint: 'Your last (family) name', input: 'text', autocomplete: 'family-name' },
  nickname: { label: 'Nickname', hint: 'The name you like to be called', input: 'text', autocomplete: 'nickname' },
  email: { label: 'Email', hint: 'Your email address', input: 'email', autocomplete: 'email' },
  phone_number: { label: 'Phone', hint: 'Your phone number, e.g. +33 1 23 45 67 89', input: 'tel', autocomplete: 'tel' },
  address: { label: 'Postal address', hint: 'Your postal address', input: 'address', autocomplete: 'street-address' },
  birthdate: { label: 'Date of birth', hint: 'Your date of birth', input: 'date', autocomplete: 'bday' },
  gender: { label: 'Gender', hint: 'Your gender, in your words', input: 'text', autocomplete: 'sex' },
  locale: { label: 'Language', hint: 'The language you prefer, as a tag such as en or fr-CA', input: 'text', autocomplete: 'language' },
  website: { label: 'Website', hint: 'Your website (http or https)', input: 'url', autocomplete: 'url' },
  organization: { label: 'Organization', hint: 'The organization you work for', input: 'text', autocomplete: 'organization' },
  title: { label: 'Job title', hint: 'Your job title', input: 'text', autocomplete: 'organization-title' },
  role: { label: 'Role', hint: 'Your role or occupation', input: 'text', autocomplete: 'off' },
  anniversary: { label: 'Anniversary', hint: 'Your wedding or partnership anniversary', input: 'date', autocomplete: 'off' },
  zoneinfo: { label: 'Time zone', hint: 'Your time zone, such as Europe/Paris', input: 'text', autocomplete: 'off' },
  note: { label: 'Note', hint: 'A note about you', input: 'textarea', autocomplete: 'off' },
  payment_method: { label: 'Payment', hint: 'The way you prefer to pay, such as card or bank transfer', input: 'text', autocomplete: 'off', preference: true },
  clothing_size: { label: 'Clothing size', hint: 'With its system, such as EU 40 or US M', input: 'text', autocomplete: 'off', preference: true },
  shoe_size: { label: 'Shoe size', hint: 'With its system, such as EU 39 or UK 6', input: 'text', autocomplete: 'off', preference: true },
  dietary_needs: { label: 'Diet', hint: 'Comma-separated: vegan, vegetarian, gluten-free, low lactose, halal, kosher, hindu, diabetic, low calorie, low fat, low salt', input: 'text', autocomplete: 'off', preference: true },
  contact_hours: { label: 'Contact hours', hint: 'When companies may contact you, in your time zone, such as 09:00-18:00', input: 'text', autocomplete: 'off', preference: true },
} as const satisfies Record<ProfileFieldName, FieldSpec>;

export const FIELD_NAMES = Object.keys(FIELD_SPECS) as ProfileFieldName[];

export function isPreference(field: ProfileFieldName): boolean {
  const spec: FieldSpec = FIELD_SPECS[field];
  return spec.preference === true;
}

/**
 * The fields a nameless persona never holds (the agent refuses them: persona.nameless), so the
 * profile page does not offer them for one. The same list as src/personal/personas.ts NAME_FIELDS
 * (format.test.ts checks it; that module is the agent's, not the app's).
 */
export const NAME_FIELDS: readonly ProfileFieldName[] = ['name', 'given_name', 'family_name', 'nickname'];

export function isNameField(field: ProfileFieldName): boolean {
  return NAME_FIELDS.includes(field);
}

export function isFieldName(name: string): name is ProfileFieldName {
  return Object.hasOwn(FIELD_SPECS, name);
}

/** "Email" for a field name; credential claims and unknown names are shown as they are. */
export function fieldLabel(name: string): string {
  return isFieldName(name) ? FIELD_SPECS[name].label : name.replace(/_/g, ' ');
}

/** The parts of a postal address, in the order they are written (as the agent orders them). */
export const ADDRESS_PARTS = [
  { key: 'street_address', label: 'Street', autocomplete: 'street-address' },
  { key: 'locality', label: 'City or town', autocomplete: 'address-level2' },
  { key: 'region', label: 'Region or state', autocomplete: 'address-level1' },
  { key: 'postal_code', label: 'Postal code', autocomplete: 'postal-code' },
  { key: 'country', label: 'Country', autocomplete: 'country-name' },
] as const;

export type AddressKey = (typeof ADDRESS_PARTS)[number]['key'];

/** A value for display: text as is, dates in her locale, an address on one line. */
export function formatFieldValue(field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    const parts = value as Partial<Record<string, unknown>>;
    const known = ADDRESS_PARTS.map((p) => parts[p.key]).filter((v): v is string => typeof v === 'string' && v !== '');
    return known.length > 0 ? known.join(', ') : JSON.stringify(value);
  }
  if (typeof value === 'string') return (field === 'birthdate' || field === 'anniversary') ? formatIsoDate(value) : value;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// States and terms

export const RELATIONSHIP_STATE: Record<string, string> = {
  pending: 'Connecting',
  active: 'Active',
  muted: 'Muted',
  cut_off: 'Cut off',
};

export const LEGAL_BASIS: Record<string, string> = {
  consent: 'your consent',
  contract: 'a contract with you',
  'legal-obligation': 'a legal obligation',
  'vital-interest': 'your vital interest',
  'public-interest': 'the public interest',
  'legitimate-interest': 'its legitimate interest',
};

export const TERMS_STATE: Record<string, string> = {
  proffered: 'proposed',
  countered: 'countered',
  agreed: 'agreed',
  superseded: 'replaced',
  rejected: 'rejected',
  declined: 'declined',
};

/** The consent states of ISO/IEC TS 27560 records, in words. */
export const CONSENT_STATE: Record<string, string> = {
  pending: 'Waiting for the company',
  active: 'Given',
  refused: 'Refused',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
};

/** Words for the error codes a delivery may carry (`lastError`). */
export function deliveryErrorText(code: string | null | undefined): string {
  switch (code) {
    case 'transport.unreachable':
      return 'company unreachable';
    case 'transport.rejected':
      return 'the company refused it';
    case 'store.unavailable':
      return 'the company’s store is down';
    case 'api.rate_limited':
    case 'api.overloaded':
      return 'the company is busy; it will be sent again';
    case 'relationship.cut_off':
      return 'relationship cut off';
    case 'profile.stale_version':
      return 'the company holds a newer version';
    case 'profile.field_not_held':
      return 'the company never got this field';
    case null:
    case undefined:
    case '':
      return '';
    default:
      return code;
  }
}

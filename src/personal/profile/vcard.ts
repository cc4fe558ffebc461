import ICAL from 'ical.js';
import { z } from 'zod';
import { ProfileError } from '../../core/errors.js';
import { parseProfileValues, setFieldValue, type ProfileFieldName, type ProfileValues } from '../../protocol/profile/fields.js';

/*
 * Her profile as a vCard 4 (RFC 6350) and back. We build and read jCard (RFC 7095) and leave the
 * text syntax (escaping of , ; \ and newlines, line folding, CRLF) to ical.js, which implements it.
 */

/** Larger text is refused before parsing: a contact card is a few KiB at most. */
export const MAX_VCARD_BYTES = 256 * 1024;

const PRODID = '-//Kith//Kith personal agent//EN';
/** FN is required by RFC 6350; this stands in when she has given no name at all. */
const UNNAMED = 'Unnamed';

export type JCardParams = Record<string, string | string[]>;
/** A value: text, or the components of a structured value (each text or a list of texts). */
export type JCardValue = string | (string | string[])[];
export type JCardProperty = [name: string, params: JCardParams, type: string, ...values: JCardValue[]];
export type JCard = ['vcard', JCardProperty[], []];

export interface VcardExportOptions {
  /** Written as UID (a `urn:uuid:` URI, say) so other address books can recognise the card later. */
  uid?: string;
  /** Written as REV, the time the profile last changed. */
  rev?: Date;
}

export interface VcardImport {
  values: ProfileValues;
  /**
   * Upper-case names of properties whose value was not imported, each once, in card order:
   * properties Kith has no field for, instances beyond the one chosen for a field (a second EMAIL),
   * and values a field cannot hold (see `vcardToProfile`).
   */
  ignored: string[];
}

// ---------------------------------------------------------------------------------------------
// Export

/**
 * The profile as a jCard. Values are validated first (exact field names, no aliases).
 * @throws ProfileError `profile.unknown_field`, `profile.invalid_value`
 */
export function profileToJcard(input: Readonly<Record<string, unknown>>, options: VcardExportOptions = {}): JCard {
  const v = parseProfileValues(input);
  const props: JCardProperty[] = [
    ['version', {}, 'text', '4.0'],
    ['fn', {}, 'text', formattedName(v)],
  ];
  const text = (name: string, value: string | undefined): void => {
    if (value !== undefined) props.push([name, {}, 'text', value]);
  };
  if (v.family_name !== undefined || v.given_name !== undefined) {
    // N is family; given; additional; prefixes; suffixes.
    props.push(['n', {}, 'text', [v.family_name ?? '', v.given_name ?? '', '', '', '']]);
  }
  text('nickname', v.nickname);
  text('email', v.email);
  // TEL defaults to a URI in vCard 4; she types numbers as text, so it goes out as VALUE=text.
  text('tel', v.phone_number);
  if (v.address !== undefined) {
    const a = v.address;
    // ADR is PO box; extended address; street; locality; region; postal code; country.
    props.push(['adr', {}, 'text', ['', '', a.street_address ?? '', a.locality ?? '', a.region ?? '', a.postal_code ?? '', a.country ?? '']]);
  }
  if (v.birthdate !== undefined) props.push(['bday', {}, 'date-and-or-time', v.birthdate]);
  if (v.gender !== undefined) {
    // GENDER is sex; identity. A sex letter goes in the first component, anything else in the second.
    props.push(['gender', {}, 'text', SEX_LETTERS.has(v.gender) ? v.gender : ['', v.gender]]);
  }
  if (v.locale !== undefined) props.push(['lang', {}, 'language-tag', v.locale]);
  if (v.website !== undefined) props.push(['url', {}, 'uri', v.website]);
  // ORG is structured (name; unit; ...); one component makes ical.js escape a ';' in the name.
  if (v.organization !== undefined) props.push(['org', {}, 'text', [v.organization]]);
  text('title', v.title);
  text('role', v.role);
  if (v.anniversary !== undefined) props.push(['anniversary', {}, 'date-and-or-time', v.anniversary]);
  text('tz', v.zoneinfo);
  text('note', v.note);
  // Her preferences, as extension properties (RFC 6350 section 6.10): readers without them skip them.
  text('x-kith-payment-method', v.payment_method);
  text('x-kith-clothing-size', v.clothing_size);
  text('x-kith-shoe-size', v.shoe_size);
  // ical.js knows no extension property's type, so each says VALUE=TEXT and is escaped as text;
  // the diets are one text value (`VeganDiet\,GlutenFreeDiet`), as a reader without them would keep it.
  text('x-kith-diet', v.dietary_needs?.replace(/, /g, ','));
  text('x-kith-contact-hours', v.contact_hours);
  props.push(['prodid', {}, 'text', PRODID]);
  if (options.uid !== undefined) props.push(['uid', {}, /^[a-z][a-z0-9+.-]*:/i.test(options.uid) ? 'uri' : 'text', options.uid]);
  if (options.rev !== undefined) props.push(['rev', {}, 'timestamp', options.rev.toISOString().replace(/\.\d{3}Z$/, 'Z')]);
  return ['vcard', props, []];
}

/**
 * The profile as vCard 4.0 text (CRLF line endings, VERSION right after BEGIN, FN always present).
 * @throws ProfileError `profile.unknown_field`, `profile.invalid_value`
 */
export function profileToVcard(input: Readonly<Record<string, unknown>>, options: VcardExportOptions = {}): string {
  return ICAL.stringify(profileToJcard(input, options));
}

const SEX_LETTERS: ReadonlySet<string> = new Set(['M', 'F', 'O', 'N', 'U']);

/** FN from her name, else her given and family names, else her email, else a placeholder. */
function formattedName(v: ProfileValues): string {
  if (v.name !== undefined) return v.name;
  const parts = [v.given_name, v.family_name].filter((p): p is string => p !== undefined);
  if (parts.length > 0) return parts.join(' ');
  return v.email ?? UNNAMED;
}

// ---------------------------------------------------------------------------------------------
// Import

function invalid(message: string, details?: Record<string, unknown>): ProfileError {
  return new ProfileError('profile.vcard_invalid', message, details === undefined ? {} : { details });
}

/**
 * Reads a vCard 4 (or 3.0, which ical.js also reads) into profile values.
 *
 * Values a field cannot hold are skipped into `ignored` rather than failing the import, because
 * they are valid vCard that simply says less (or something else) than the field needs:
 * BDAY/ANNIVERSARY without a full date (`--0203`, `1990`, or free text), TZ given as a UTC offset
 * (`-0500`) or anything but an IANA name, TEL as a non-`tel:` URI, and FN when it is only the
 * placeholder an exporter writes for a nameless card (`Unnamed`, or the card's own email address).
 * A value that claims to be what the field holds but is wrong (`BDAY:19901345`, a bad EMAIL)
 * fails the import with `profile.invalid_value` naming the field.
 *
 * @throws ProfileError `profile.vcard_invalid` (not a vCard, several vCards, larger than
 *   MAX_VCARD_BYTES, unsupported VERSION), `profile.invalid_value`
 */
export function vcardToProfile(text: string): VcardImport {
  if (Buffer.byteLength(text, 'utf8') > MAX_VCARD_BYTES) throw invalid(`A vCard may be at most ${MAX_VCARD_BYTES / 1024} KiB`, { limit: MAX_VCARD_BYTES });
  const body = text.replace(/^\uFEFF/, ''); // a BOM from Windows editors trips ical.js
  if (!/^BEGIN:VCARD[ \t]*$/im.test(body)) throw invalid('This is not a vCard: it has no BEGIN:VCARD line');
  let parsed: unknown;
  try {
    parsed = ICAL.parse(body);
  } catch {
    // ical.js quotes the offending line in its message; that may be personal, so it is not kept.
    throw invalid('This vCard could not be read: its syntax is broken');
  }
  return jcardToProfile(parsed);
}

const propertySchema = z.tuple([z.string(), z.record(z.string(), z.unknown()), z.string()], z.unknown());
const jcardSchema = z.tuple([z.literal('vcard'), z.array(propertySchema), z.array(z.unknown())]);
type Prop = z.output<typeof propertySchema>;

/**
 * Reads a jCard (RFC 7095), as `ICAL.parse` returns it or `profileToJcard` builds it.
 * See `vcardToProfile` for what is skipped and what fails.
 * @throws ProfileError `profile.vcard_invalid`, `profile.invalid_value`
 */
export function jcardToProfile(jcard: unknown): VcardImport {
  // ICAL.parse gives an array of components when the text holds several.
  if (Array.isArray(jcard) && jcard.length > 1 && jcard.every((c) => Array.isArray(c))) {
    throw invalid('This file holds several vCards; import one at a time', { count: jcard.length });
  }
  const card = jcardSchema.safeParse(jcard);
  if (!card.success) throw invalid('This is not a vCard');
  const props = card.data[1];

  const version = props.find((p) => p[0] === 'version')?.[3];
  // vCard 2.1 uses another syntax (quoted-printable, bare TYPE values) that ical.js reads wrongly.
  if (version !== undefined && version !== '4.0' && version !== '3.0') {
    throw invalid('Only vCard 4.0 and 3.0 can be imported', { version: typeof version === 'string' ? version.slice(0, 10) : null });
  }

  const ignored = new Set<string>();
  const byName = new Map<string, Prop[]>();
  for (const prop of props) {
    const name = prop[0].toLowerCase();
    if (METADATA.has(name)) continue;
    if (!Object.hasOwn(IMPORTERS, name)) {
      ignored.add(name.toUpperCase());
      continue;
    }
    const list = byName.get(name);
    if (list === undefined) byName.set(name, [prop]);
    else list.push(prop);
  }

  const values: ProfileValues = {};
  for (const name of IMPORT_ORDER) {
    // Empty instances (`EMAIL:`) say nothing; they are neither chosen nor reported.
    const instances = (byName.get(name) ?? []).filter((p) => asText(p.slice(3)) !== '');
    if (instances.length === 0) continue;
    let dropped = instances.length > 1;
    IMPORTERS[name]?.(preferred(instances), {
      values,
      set(field, raw) {
        if (raw !== '') setFieldValue(values, field, raw);
      },
      drop() {
        dropped = true;
      },
    });
    if (dropped) ignored.add(name.toUpperCase());
  }
  // Reported in card order, each name once.
  const reported = new Set<string>();
  for (const prop of props) {
    const name = prop[0].toUpperCase();
    if (ignored.has(name)) reported.add(name);
  }
  return { values, ignored: [...reported] };
}

/** Card bookkeeping rather than anything about her; neither imported nor reported as ignored. */
const METADATA: ReadonlySet<string> = new Set(['version', 'prodid', 'uid', 'rev']);

interface ImportContext {
  /** What was imported so far (see IMPORT_ORDER). */
  readonly values: ProfileValues;
  /**
   * Validates and stores a value; an empty string means "not given" and is left out.
   * @throws ProfileError `profile.invalid_value`
   */
  set(field: ProfileFieldName, raw: string | Record<string, string>): void;
  /** Reports the property in `ignored`: all or part of its value was not imported. */
  drop(): void;
}
type Importer = (prop: Prop, ctx: ImportContext) => void;

/**
 * The instance to import when a property repeats: the lowest PREF (1 is most preferred), vCard 3's
 * TYPE=pref counting as PREF=1, else the first.
 */
function preferred(instances: Prop[]): Prop {
  const rank = (p: Prop): number => {
    const pref = Number(stringParam(p, 'pref'));
    if (Number.isInteger(pref) && pref >= 1 && pref <= 100) return pref;
    return listParam(p, 'type').some((t) => t.toLowerCase() === 'pref') ? 1 : 101;
  };
  return instances.reduce((best, p) => (rank(p) < rank(best) ? p : best));
}

function stringParam(p: Prop, name: string): string | undefined {
  const value = p[1][name];
  return typeof value === 'string' ? value : undefined;
}

function listParam(p: Prop, name: string): string[] {
  const value = p[1][name];
  if (typeof value === 'string') return value.split(',');
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The value of a property as text: lists (multi-valued components) joined with `joiner`. */
function asText(value: unknown, joiner = ', '): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map((v) => asText(v, joiner)).filter((v) => v !== '').join(joiner);
  return '';
}

/** First value of a property. */
function firstValue(p: Prop): string {
  return asText(p[3]);
}

/** Components of a structured value (N, ADR, ORG, GENDER); ical.js gives one component as text. */
function components(p: Prop): unknown[] {
  const value = p[3];
  return Array.isArray(value) ? value : [value];
}

const FULL_DATE = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/;
const TRUNCATED_DATE = /^(?:\d{4}(?:-\d{2})?|--\d{2}-?\d{2}|--\d{2}|---\d{2})?(?:T.*)?$/;

/** BDAY and ANNIVERSARY: a full date (a time, as in `20090808T1430-0500`, is dropped). */
function dateImporter(field: 'birthdate' | 'anniversary'): Importer {
  return (p, ctx) => {
    if (p[2] === 'text') return ctx.drop(); // VALUE=text ("circa 1800")
    const value = firstValue(p);
    if (value === '') return;
    const m = FULL_DATE.exec(value);
    if (m) return ctx.set(field, `${m[1]}-${m[2]}-${m[3]}`);
    // Truncated forms (`--0203`, `1990`, `1990-01`, `---15`, `T1430`) say less than a date;
    // anything else goes to the field's check and fails there.
    return TRUNCATED_DATE.test(value) ? ctx.drop() : ctx.set(field, value);
  };
}

/** `tel:+1-418-656-9254;ext=102` → `+1-418-656-9254;ext=102`; other URI parameters are dropped. */
function telText(p: Prop): string | undefined {
  const value = firstValue(p);
  const uri = /^tel:([^;]*)(.*)$/i.exec(value);
  if (uri) {
    const ext = /;ext=([^;]*)/i.exec(uri[2] ?? '');
    return `${uri[1] ?? ''}${ext ? `;ext=${ext[1] ?? ''}` : ''}`;
  }
  // sip:, mailto: and the like are not phone numbers she could type.
  return /^[a-z][a-z0-9+.-]*:/i.test(value) ? undefined : value;
}

const IMPORTERS: Readonly<Partial<Record<string, Importer>>> = {
  fn: (p, ctx) => {
    const name = firstValue(p);
    // An exporter must write FN even for a nameless card; its stand-ins are not her name (and
    // nothing is lost by leaving them out, so they are not reported as ignored either).
    if (name === UNNAMED || (ctx.values.email !== undefined && name.toLowerCase() === ctx.values.email.toLowerCase())) return;
    ctx.set('name', name);
  },
  n: (p, ctx) => {
    const [family, given] = components(p);
    // Several given names in one component (`Simon,Paul`) are one given name to a person.
    ctx.set('family_name', asText(family, ' '));
    ctx.set('given_name', asText(given, ' '));
  },
  nickname: (p, ctx) => {
    // NICKNAME is a list; the field holds one, the first.
    if (p.length > 4) ctx.drop();
    ctx.set('nickname', firstValue(p));
  },
  email: (p, ctx) => ctx.set('email', firstValue(p)),
  tel: (p, ctx) => {
    const text = telText(p);
    return text === undefined ? ctx.drop() : ctx.set('phone_number', text);
  },
  adr: (p, ctx) => {
    const [pobox, ext, street, locality, region, postalCode, country] = components(p).map((c) => asText(c));
    // The address field has one street line: the street, then the extended address (suite,
    // apartment) and PO box when present, so nothing she wrote is lost.
    const address: Record<string, string> = {};
    const parts = { street_address: [street, ext, pobox].filter((s) => s).join(', '), locality, region, postal_code: postalCode, country };
    for (const [key, value] of Object.entries(parts)) if (value) address[key] = value;
    if (Object.keys(address).length > 0) ctx.set('address', address);
  },
  bday: dateImporter('birthdate'),
  gender: (p, ctx) => {
    // Sex letter when given, else the free-text identity.
    const [sex, identity] = components(p).map((c) => asText(c));
    ctx.set('gender', sex || identity || '');
  },
  lang: (p, ctx) => ctx.set('locale', firstValue(p)),
  url: (p, ctx) => ctx.set('website', firstValue(p)),
  // The organization's name; units (`ORG:ABC;Marketing`) have no field.
  org: (p, ctx) => ctx.set('organization', asText(components(p)[0])),
  title: (p, ctx) => ctx.set('title', firstValue(p)),
  role: (p, ctx) => ctx.set('role', firstValue(p)),
  anniversary: dateImporter('anniversary'),
  tz: (p, ctx) => {
    // RFC 6350 allows TZ as a UTC offset, a URI or free text; only IANA names fit the field, and
    // anything else is skipped rather than refused since it is valid vCard.
    try {
      ctx.set('zoneinfo', firstValue(p));
    } catch (err) {
      if (!(err instanceof ProfileError)) throw err;
      ctx.drop();
    }
  },
  note: (p, ctx) => ctx.set('note', firstValue(p).replace(/\r\n?/g, '\n')),
  'x-kith-payment-method': (p, ctx) => ctx.set('payment_method', firstValue(p)),
  'x-kith-clothing-size': (p, ctx) => ctx.set('clothing_size', firstValue(p)),
  'x-kith-shoe-size': (p, ctx) => ctx.set('shoe_size', firstValue(p)),
  // One text value with the diets comma-separated, or (from a writer that made it a list) several.
  'x-kith-diet': (p, ctx) => ctx.set('dietary_needs', asText(p.slice(3))),
  'x-kith-contact-hours': (p, ctx) => ctx.set('contact_hours', firstValue(p)),
};

/** EMAIL before FN, so FN can tell an exporter's stand-in (the email) from a name. */
const IMPORT_ORDER = ['email', ...Object.keys(IMPORTERS).filter((n) => n !== 'email')];

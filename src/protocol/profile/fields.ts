import { z } from 'zod';
import { ProfileError } from '../../core/errors.js';
import { describeZodIssues, tryParseJson } from '../../core/json.js';

/*
 * The fields of her profile. Names are the claim names companies see (they become SD-JWT claim
 * names), so they follow OpenID Connect's standard claims where one exists; each field also names
 * the vCard 4 property (RFC 6350) it travels as, for import and export.
 *
 * Schemas validate and lightly normalize (trim). Error details name fields and zod issue codes,
 * never the values: a value is personal data and errors end up in logs.
 */

// ---------------------------------------------------------------------------------------------
// Value schemas

/** C0 controls and DEL; single-line fields refuse them all (a newline would break a CLI table). */
const SINGLE_LINE = /^[^\u0000-\u001f\u007f]*$/;
/** A note may hold line breaks and tabs, but no other controls (a bare CR would break vCard lines). */
const MULTI_LINE = /^[^\u0000-\u0008\u000b-\u001f\u007f]*$/;

function line(max: number) {
  return z.string().trim().min(1, 'must not be empty').max(max).regex(SINGLE_LINE, 'must be one line without control characters');
}

/**
 * zod's default email pattern is ASCII only; people do have internationalized addresses
 * (`zoë@exämple.fr`), so letters of any script are allowed, with the usual shape checks.
 */
const EMAIL = /^(?!\.)(?!.*\.\.)[^\s@"(),:;<>[\\\]]{1,64}(?<!\.)@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}$/u;

/**
 * Digits with the usual separators, an optional leading `+`, and an optional extension written as
 * RFC 3966 does (`;ext=102`, which OpenID Connect recommends) or as people do (`ext. 102`, `x102`).
 */
const PHONE = /^\+?[\d\s().\/-]+(?:\s*(?:;ext=|ext\.?|x)\s*\d{1,10})?$/i;

function digitCount(s: string): number {
  return s.replace(/\D/g, '').length;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A real calendar date. Years before 1000 are refused: OpenID Connect uses year 0000 to mean
 * "year withheld", which Kith does not support, and no living person's dates come before that.
 */
function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return true; // the format check reports it
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1000 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

/**
 * Today's date where it is latest on Earth (UTC+14), so a birthday entered on the day itself is
 * never "in the future" for someone whose clock is ahead of UTC.
 */
function latestToday(): string {
  return new Date(Date.now() + 14 * 3600_000).toISOString().slice(0, 10);
}

function isoDate() {
  return z.string().trim().regex(DATE, 'must be a date written YYYY-MM-DD').refine(isCalendarDate, 'must be a real calendar date');
}

function isLanguageTag(value: string): boolean {
  // Intl checks BCP 47 well-formedness; the pattern rules out forms Intl would rewrite (`en_US`).
  if (!/^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/.test(value)) return false;
  try {
    Intl.getCanonicalLocales(value);
    return true;
  } catch {
    return false;
  }
}

function isHttpUrl(value: string): boolean {
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * An IANA time zone name (`Europe/Paris`, `UTC`). The pattern refuses UTC offsets (`-0500`,
 * `+05:00`), which newer ICU versions accept as zones but which do not follow daylight saving time.
 */
function isIanaTimeZone(value: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(value)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The parts of a postal address, in the order they are written and shown. */
export const ADDRESS_PARTS = ['street_address', 'locality', 'region', 'postal_code', 'country'] as const;

const addressSchema = z
  .strictObject({
    street_address: line(256).optional(),
    locality: line(128).optional(),
    region: line(128).optional(),
    postal_code: line(32).optional(),
    country: line(128).optional(),
  })
  .refine((a) => ADDRESS_PARTS.some((part) => a[part] !== undefined), 'must have at least one part');

export type ProfileAddress = z.output<typeof addressSchema>;

/**
 * schema.org's RestrictedDiet values (https://schema.org/RestrictedDiet): the names a company's
 * systems can read without a vocabulary of ours.
 */
export const RESTRICTED_DIETS = [
  'DiabeticDiet', 'GlutenFreeDiet', 'HalalDiet', 'HinduDiet', 'KosherDiet', 'LowCalorieDiet', 'LowFatDiet', 'LowLactoseDiet',
  'LowSaltDiet', 'VeganDiet', 'VegetarianDiet',
] as const;

/** `vegan`, `Vegan diet`, `veganDiet` and `VeganDiet` all name VeganDiet. */
function dietName(typed: string): string | undefined {
  const key = typed.toLowerCase().replace(/[\s_-]/g, '').replace(/diet$/, '');
  return RESTRICTED_DIETS.find((d) => d.toLowerCase().replace(/diet$/, '') === key);
}

/**
 * Her dietary needs as schema.org diet names, comma-separated, each once, in the order she gave
 * them: text, like every field but the address, so it travels as one SD-JWT claim and one vCard
 * property, and a company's form can show it as is.
 */
const dietaryNeedsSchema = line(512)
  .transform((text, ctx) => {
    const names: string[] = [];
    for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const name = dietName(part);
      if (name === undefined) {
        ctx.addIssue({ code: 'custom', message: `must name schema.org diets: ${RESTRICTED_DIETS.join(', ')}` });
        return z.NEVER;
      }
      if (!names.includes(name)) names.push(name);
    }
    if (names.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must name at least one diet' });
      return z.NEVER;
    }
    return names.join(', ');
  });

const TIME_RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * When she may be contacted, in her own time zone (`zoneinfo`): `HH:MM-HH:MM`, not before the
 * first time, not after the second; a range over midnight (`20:00-08:00`) is a night owl's.
 */
const contactHoursSchema = line(11)
  .regex(TIME_RANGE, 'must be a range of times written HH:MM-HH:MM, such as 09:00-18:00')
  .refine((v) => v.slice(0, 5) !== v.slice(6), 'must start and end at different times');

// ---------------------------------------------------------------------------------------------
// The registry

function field<const N extends string, const P extends string, S extends z.ZodType>(name: N, vcardProperty: P, description: string, schema: S) {
  return { name, vcardProperty, description, schema } as const;
}

/** Every profile field, in the order they are listed and exported. */
export const PROFILE_FIELDS = [
  field('name', 'FN', 'Your full name, as you like it written', line(256)),
  field('given_name', 'N', 'Your first (given) name', line(128)),
  field('family_name', 'N', 'Your last (family) name', line(128)),
  field('nickname', 'NICKNAME', 'The name you like to be called', line(128)),
  field('email', 'EMAIL', 'Your email address', line(254).regex(EMAIL, 'must be an email address')),
  field(
    'phone_number',
    'TEL',
    'Your phone number',
    line(64)
      .regex(PHONE, 'must be a phone number: digits, spaces, ( ) - . / and a leading +')
      .refine((v) => digitCount(v) >= 3 && digitCount(v) <= 25, 'must have between 3 and 25 digits'),
  ),
  field('address', 'ADR', 'Your postal address', addressSchema),
  field('birthdate', 'BDAY', 'Your date of birth', isoDate().refine((v) => v <= latestToday(), 'must not be in the future')),
  field('gender', 'GENDER', 'Your gender', line(64)),
  field('locale', 'LANG', 'The language you prefer', line(35).refine(isLanguageTag, 'must be a BCP 47 language tag such as en or fr-CA')),
  field('website', 'URL', 'Your website', line(2048).refine(isHttpUrl, 'must be an http or https address')),
  field('organization', 'ORG', 'The organization you work for', line(256)),
  field('title', 'TITLE', 'Your job title', line(256)),
  field('role', 'ROLE', 'Your role or occupation', line(256)),
  field('anniversary', 'ANNIVERSARY', 'Your wedding or partnership anniversary', isoDate()),
  field('zoneinfo', 'TZ', 'Your time zone', line(64).refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Paris')),
  field('note', 'NOTE', 'A note about you', z.string().trim().min(1, 'must not be empty').max(4000).regex(MULTI_LINE, 'must not hold control characters other than line breaks and tabs')),
  // Her preferences (issue 16): shared field by field and changed once everywhere like the rest.
  // Neither OpenID Connect nor vCard names them, so they travel as these claim names and as vCard
  // extension properties (RFC 6350 section 6.10).
  field('payment_method', 'X-KITH-PAYMENT-METHOD', 'The way you prefer to pay, such as card or bank transfer', line(128)),
  field('clothing_size', 'X-KITH-CLOTHING-SIZE', 'Your clothing size, with its system, such as EU 40 or US M', line(32)),
  field('shoe_size', 'X-KITH-SHOE-SIZE', 'Your shoe size, with its system, such as EU 39 or UK 6', line(32)),
  field('dietary_needs', 'X-KITH-DIET', 'What you eat, as schema.org diets such as VeganDiet or GlutenFreeDiet', dietaryNeedsSchema),
  field('contact_hours', 'X-KITH-CONTACT-HOURS', 'When companies may contact you, in your time zone: not before, not after (HH:MM-HH:MM)', contactHoursSchema),
] as const;

/** The fields that are preferences rather than facts about her: listed apart in her app and docs. */
export const PREFERENCE_FIELDS = ['payment_method', 'clothing_size', 'shoe_size', 'dietary_needs', 'contact_hours'] as const satisfies readonly ProfileFieldName[];

export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type ProfileFieldName = ProfileField['name'];
type FieldValues = { [P in ProfileField as P['name']]: z.output<P['schema']> };
/** The stored (validated) value of one field: a string for all but `address`. */
export type ProfileFieldValue<F extends ProfileFieldName> = FieldValues[F];
/** A profile, or part of one: validated values by field name. */
export type ProfileValues = Partial<FieldValues>;

export const profileFieldNames: readonly ProfileFieldName[] = PROFILE_FIELDS.map((f) => f.name);

const BY_NAME: ReadonlyMap<string, ProfileField> = new Map(PROFILE_FIELDS.map((f) => [f.name, f]));

/** Short names people type on the command line. */
export const fieldAliases: Readonly<Record<string, ProfileFieldName>> = Object.freeze({
  phone: 'phone_number',
  tel: 'phone_number',
  birthday: 'birthdate',
  bday: 'birthdate',
  fn: 'name',
  full_name: 'name',
  org: 'organization',
  lang: 'locale',
  language: 'locale',
  tz: 'zoneinfo',
  timezone: 'zoneinfo',
  url: 'website',
  payment: 'payment_method',
  diet: 'dietary_needs',
  size: 'clothing_size',
  hours: 'contact_hours',
});

export function isProfileField(name: string): name is ProfileFieldName {
  return BY_NAME.has(name);
}

function unknownField(name: string): ProfileError {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return new ProfileError('profile.unknown_field', `No profile field is called "${shown}"; known fields: ${profileFieldNames.join(', ')}`, {
    details: { field: shown, known: [...profileFieldNames] },
  });
}

/**
 * A field name or alias, as a person typed it (any case, `-` for `_`), to the field's name.
 * @throws ProfileError `profile.unknown_field`, with the valid names in `details.known`
 */
export function resolveFieldName(nameOrAlias: string): ProfileFieldName {
  const key = nameOrAlias.trim().toLowerCase().replace(/-/g, '_');
  if (isProfileField(key)) return key;
  const alias = Object.hasOwn(fieldAliases, key) ? fieldAliases[key] : undefined;
  if (alias !== undefined) return alias;
  throw unknownField(nameOrAlias);
}

function invalidValue(field: string, message: string, issues: string[]): ProfileError {
  return new ProfileError('profile.invalid_value', `Invalid ${field}: ${message}`, { details: { field, issues } });
}

/**
 * Validates a value for a field and returns it normalized (trimmed).
 * @throws ProfileError `profile.invalid_value` with `details: { field, issues }` (never the value);
 *   `profile.unknown_field` for a name that is not a field (aliases are not resolved here)
 */
export function parseFieldValue<F extends ProfileFieldName>(field: F, input: unknown): ProfileFieldValue<F> {
  const spec = BY_NAME.get(field);
  if (spec === undefined) throw unknownField(field);
  const result = spec.schema.safeParse(input);
  if (!result.success) {
    // zod's messages describe the rule broken, not the input, so the first one is safe to show.
    const first = result.error.issues[0];
    const where = first && first.path.length > 0 ? `${first.path.join('.')} ` : '';
    throw invalidValue(field, `${where}${first?.message ?? 'invalid value'}`, describeZodIssues(result.error));
  }
  // The map is keyed by name, so `spec` is the entry for F and its output is F's value type.
  return result.data as ProfileFieldValue<F>;
}

/**
 * Validates values keyed by exact field names (no aliases); undefined entries are left out.
 * @throws ProfileError `profile.unknown_field`, `profile.invalid_value`
 */
export function parseProfileValues(input: Readonly<Record<string, unknown>>): ProfileValues {
  const values: ProfileValues = {};
  for (const [name, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    if (!isProfileField(name)) throw unknownField(name);
    setFieldValue(values, name, raw);
  }
  return values;
}

/** Validates `raw` for `field` and stores it in `values`. */
export function setFieldValue<F extends ProfileFieldName>(values: ProfileValues, field: F, raw: unknown): void {
  values[field] = parseFieldValue(field, raw);
}

const ADDRESS_TEXT_FORM = 'street; locality; region; postal code; country';

/**
 * A value as typed on the command line. Text fields take the text as is. An address is either a
 * JSON object (`{"locality": "Paris", "country": "France"}`) or `street; locality; region; postal
 * code; country` with empty parts allowed. Commas are not taken as separators: they are common
 * inside street names and the parts could not be told apart reliably.
 * @throws ProfileError `profile.invalid_value`
 */
export function parseFieldText<F extends ProfileFieldName>(field: F, text: string): ProfileFieldValue<F> {
  if (field === 'address') return parseFieldValue(field, addressFromText(text));
  if (field === 'note') return parseFieldValue(field, text.replace(/\r\n?/g, '\n'));
  return parseFieldValue(field, text);
}

function addressFromText(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const parsed = tryParseJson(trimmed);
    if (!parsed.ok) throw invalidValue('address', `not valid JSON; give a JSON object or "${ADDRESS_TEXT_FORM}"`, ['(root): invalid_json']);
    return parsed.value;
  }
  if (!trimmed.includes(';') && trimmed.includes(',')) {
    throw invalidValue('address', `separate the parts with semicolons: "${ADDRESS_TEXT_FORM}"`, ['(root): commas_not_separators']);
  }
  const parts = trimmed.split(';').map((p) => p.trim());
  if (parts.length > ADDRESS_PARTS.length) {
    throw invalidValue('address', `at most ${ADDRESS_PARTS.length} parts: "${ADDRESS_TEXT_FORM}"`, ['(root): too_many_parts']);
  }
  const address: Record<string, string> = {};
  ADDRESS_PARTS.forEach((part, i) => {
    const value = parts[i];
    if (value) address[part] = value;
  });
  return address;
}

/**
 * A value for display: text as is, an address as its non-empty parts joined with ", ". Takes
 * `unknown` because display code gets values back as JSON; it never throws.
 */
export function formatFieldValue(field: ProfileFieldName, value: unknown): string {
  if (field === 'address' && typeof value === 'object' && value !== null) {
    const address: Partial<Record<string, unknown>> = { ...value };
    return ADDRESS_PARTS.map((part) => address[part])
      .filter((part): part is string => typeof part === 'string' && part !== '')
      .join(', ');
  }
  return typeof value === 'string' ? value : JSON.stringify(value) ?? '';
}

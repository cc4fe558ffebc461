import { z } from 'zod';
import { amountSchema, calendarDateSchema } from '../families/intent.js';

/*
 * The fields of a thing she owns (shaped after schema.org IndividualProduct and WarrantyPromise),
 * checked the same way wherever a thing record is written: her vault today, the `thing` message
 * family a seller's agent will send receipts in later (issue 13 items 2 and 3).
 */

/**
 * True when `digits` (8, 12, 13 or 14 digits: GTIN-8, UPC-A, EAN-13, GTIN-14) ends in the GS1 check
 * digit of the others: weights 3 and 1 alternating from the right, the check digit making the sum a
 * multiple of ten (GS1 General Specifications 7.9.1).
 */
export function gtinCheckDigitValid(digits: string): boolean {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 2, weight = 3; i >= 0; i--, weight = 4 - weight) sum += Number(digits[i]) * weight;
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

/** A GTIN (8, 12, 13 or 14 digits) whose check digit is right: a mistyped barcode is refused. */
export const gtinSchema = z
  .string()
  .regex(/^(\d{8}|\d{12}|\d{13}|\d{14})$/, 'a GTIN of 8, 12, 13 or 14 digits')
  .refine(gtinCheckDigitValid, { message: 'the GTIN check digit is wrong' });

/**
 * The currencies ISO 4217 lists, as this Node knows them (ICU's list: `Intl.supportedValuesOf`), so
 * `EUX` is refused where a three-letter pattern alone would take it.
 */
const ISO_4217: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));
export const iso4217Schema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 currency code such as EUR')
  .refine((code) => ISO_4217.has(code), { message: 'not an ISO 4217 currency code' });

/** What she paid: a non-negative decimal amount as text (cents kept exact) and its currency. */
export const priceSchema = z.strictObject({ amount: amountSchema, currency: iso4217Schema });
export type Price = z.infer<typeof priceSchema>;

/**
 * An ISO 8601 duration in calendar units, as warranties are written (`P2Y`, `P6M`, `P1Y6M`, `P90D`,
 * `P52W`): at least one non-zero part, no time part (a warranty does not end at an hour), each
 * part at most 3 digits.
 */
const DURATION = /^P(?:(\d{1,3})Y)?(?:(\d{1,3})M)?(?:(\d{1,3})W)?(?:(\d{1,3})D)?$/;
export const durationSchema = z
  .string()
  .regex(DURATION, 'an ISO 8601 duration such as P2Y, P6M or P90D')
  .refine((text) => parseDuration(text) !== undefined, { message: 'the duration must be longer than zero' });

export interface CalendarDuration {
  years: number;
  months: number;
  days: number;
}

/** The parts of a duration {@link durationSchema} accepts (weeks as 7 days); undefined otherwise or when zero. */
export function parseDuration(text: string): CalendarDuration | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [years, months, weeks, days] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number];
  const duration = { years, months, days: weeks * 7 + days };
  return duration.years + duration.months + duration.days === 0 ? undefined : duration;
}

/**
 * The last day a contract covers: `start` plus `duration`, minus one day (a two-year warranty
 * bought on 2026-03-15 covers up to 2028-03-14). Months add as calendars do: a month after
 * January 31 is the last day of February.
 */
export function contractEnd(start: string, duration: string): string {
  const parts = parseDuration(duration);
  if (parts === undefined) throw new RangeError(`not a duration: ${duration}`);
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  const monthIndex = m - 1 + parts.months + parts.years * 12;
  const year = y + Math.floor(monthIndex / 12);
  const month = ((monthIndex % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const end = new Date(Date.UTC(year, month, Math.min(d, lastDay)) + (parts.days - 1) * 86_400_000);
  return end.toISOString().slice(0, 10);
}

/** The two kinds of cover a thing has: the maker's or seller's warranty, and a service contract. */
export const contractKindSchema = z.enum(['warranty', 'service']);

/** A warranty or service contract (schema.org WarrantyPromise's duration and scope, and who gives it). */
export const contractSchema = z.strictObject({
  /** Local random id: what her reminders are remembered by. */
  id: z.uuid(),
  kind: contractKindSchema,
  start: calendarDateSchema,
  duration: durationSchema,
  /** What it covers, in the contract's words (schema.org warrantyScope). */
  scope: z.string().min(1).max(500).optional(),
  /** Who gives it, as written on the paper. */
  provider: z.string().min(1).max(200).optional(),
});
export type Contract = z.infer<typeof contractSchema>;

/** What a company is to one of her things. */
export const thingRoleSchema = z.enum(['maker', 'seller', 'servicer', 'insurer']);
export type ThingRole = z.infer<typeof thingRoleSchema>;

/** The kinds of document she keeps with a thing. */
export const attachmentKindSchema = z.enum(['receipt', 'photo', 'manual', 'warranty', 'other']);
export type AttachmentKind = z.infer<typeof attachmentKindSchema>;

/** A line of text a person or a till writes: trimmed, not empty, at most `max` characters. */
export const boundedText = (max: number) => z.string().trim().min(1).max(max);
const text = boundedText;

/**
 * What identifies a product (schema.org IndividualProduct's names): her thing's first fields, a
 * seller's receipt (thing 1.0) and the till's input to it all start with these.
 */
export const productFieldsSchema = z.strictObject({
  name: text(200),
  brand: text(200).optional(),
  model: text(200).optional(),
  gtin: gtinSchema.optional(),
  /** Manufacturer part number. */
  mpn: text(100).optional(),
  serialNumber: text(200).optional(),
});

/** The descriptive fields of a thing (schema.org IndividualProduct), all hers to fill in or leave out. */
export const thingFieldsSchema = productFieldsSchema.extend({
  purchaseDate: calendarDateSchema.optional(),
  price: priceSchema.optional(),
  /** Who sold it, in her words (the seller's relationship, if any, is a link with role `seller`). */
  seller: text(200).optional(),
  /** Where it is (the hall cupboard, the summer house). */
  location: text(200).optional(),
  notes: z.string().max(4000).optional(),
});
export type ThingFields = z.infer<typeof thingFieldsSchema>;

import { z } from 'zod';
import { TO_COMPANY, TO_PERSON, defineMessage } from './registry.js';
import { kithType } from './uris.js';

/** The kinds of administrative identifier a company knows her by (issue 16 item 2). */
export const IDENTIFIER_KINDS = ['customer_number', 'account_login', 'loyalty_number', 'membership_number', 'policy_number', 'contract_number', 'other'] as const;
export const identifierKindSchema = z.enum(IDENTIFIER_KINDS);
export type IdentifierKind = z.infer<typeof identifierKindSchema>;

/** At most this many identifiers in one list: a company knows her by a handful, not by hundreds. */
export const MAX_IDENTIFIERS = 20;
export const MAX_IDENTIFIER_VALUE = 100;
export const MAX_IDENTIFIER_LABEL = 100;

/**
 * No control characters (C0, DEL, C1) and no bidi or other invisible format characters: a value is
 * read aloud on the phone and typed back, so what is shown must be all there is.
 */
const visibleText = /^[^\p{Cc}\p{Cf}]+$/u;

/** An identifier's value: 1–100 visible characters, not only spaces. */
export const identifierValueSchema = z
  .string()
  .min(1)
  .max(MAX_IDENTIFIER_VALUE)
  .regex(visibleText, 'has control or invisible format characters')
  .refine((v) => v.trim().length > 0, 'is blank');

/** What the company calls it ("Home insurance policy"): 1–100 visible characters. */
export const identifierLabelSchema = z.string().min(1).max(MAX_IDENTIFIER_LABEL).regex(visibleText, 'has control or invisible format characters');

export const identifierSchema = z
  .object({
    kind: identifierKindSchema,
    value: identifierValueSchema,
    label: identifierLabelSchema.optional(),
    /** When the company issued it to her (ISO 8601). */
    issued_at: z.iso.datetime(),
  })
  .passthrough();
export type Identifier = z.infer<typeof identifierSchema>;

/**
 * The lookup form of a value: NFKC, upper case, without spaces and the usual separators, so that
 * "88-123", "88 123" and "88123" find the same policy. Used for her blind index and for telling
 * duplicates apart; the value itself is kept as the company wrote it.
 */
export function normaliseIdentifierValue(value: string): string {
  return value.normalize('NFKC').toUpperCase().replace(/[\s\-./_]/gu, '');
}

const uniqueIdentifiers = (list: readonly Identifier[]): boolean => new Set(list.map((i) => `${i.kind}\n${normaliseIdentifierValue(i.value)}`)).size === list.length;

export const identifiersBodySchema = z
  .object({
    /** Her pairwise DID on this relationship: whom the identifiers name. Her agent refuses any other. */
    subject: z.string().min(1).max(4096),
    /** The list's number, 1 for the first: a later list replaces an earlier one; an older one arriving late is ignored. */
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    /** Everything the company now knows her by (its customer number at least): the whole list, not a change. */
    identifiers: z.array(identifierSchema).min(1).max(MAX_IDENTIFIERS).refine(uniqueIdentifiers, 'lists an identifier twice'),
  })
  .passthrough();
export type IdentifiersBody = z.infer<typeof identifiersBodySchema>;

export const identifiersAckBodySchema = z
  .object({
    /** The list she now holds from this company (the one acknowledged, or a later one she had already). */
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  })
  .passthrough();
export type IdentifiersAckBody = z.infer<typeof identifiersAckBodySchema>;

/**
 * Kith account 1.0: what a company knows her by (customer number, login, loyalty, membership,
 * policy or contract numbers), told to her agent as a message signed by the company, which she
 * keeps as the proof (docs/protocol/account.md).
 */
export const Account = {
  identifiers: defineMessage(kithType('account', '1.0', 'identifiers'), identifiersBodySchema, TO_PERSON),
  ack: defineMessage(kithType('account', '1.0', 'ack'), identifiersAckBodySchema, TO_COMPANY),
} as const;

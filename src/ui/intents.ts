import type { RouteBody } from '../personal/http/apiContract.js';
import type { routes } from './api';
import type { DirectoryEntryView, IntentCategory, IntentView, OfferView } from './types';
import type { Tone } from './components/ui';
import { theirText } from './format';

/*
 * Her intents in words, and the new-intent form checked before anything is sent: every rule the
 * agent's demand schema holds (src/protocol/families/intent.ts) is checked here too, each failure
 * naming the field and the rule, so that she never sees a bare `api.bad_request` for a typo.
 */

export type CastBody = RouteBody<typeof routes.castIntent>;

// ---------------------------------------------------------------------------------------------
// Categories

export interface CategoryOption {
  id: string;
  /** "Electronics › Phones" below the top level, the label itself at it. */
  label: string;
  depth: number;
}

export interface CategoryGroup {
  id: string;
  label: string;
  options: CategoryOption[];
}

/**
 * The shipped category list grouped by its top-level categories (goods, services) for a select's
 * optgroups, each group starting with the top level itself ("Any goods"), children after their parent.
 */
export function groupCategories(categories: readonly IntentCategory[]): CategoryGroup[] {
  const byParent = new Map<string | null, IntentCategory[]>();
  for (const c of categories) byParent.set(c.parent, [...(byParent.get(c.parent) ?? []), c]);
  const known = new Set(categories.map((c) => c.id));
  // Top level: no parent, or a parent the list does not hold.
  const roots = categories.filter((c) => c.parent === null || !known.has(c.parent));
  return roots.map((root) => {
    const options: CategoryOption[] = [{ id: root.id, label: `Any ${root.label.toLowerCase()}`, depth: 0 }];
    const walk = (parent: IntentCategory, path: string[], depth: number) => {
      for (const child of byParent.get(parent.id) ?? []) {
        const trail = [...path, child.label];
        options.push({ id: child.id, label: trail.join(' › '), depth });
        walk(child, trail, depth + 1);
      }
    };
    walk(root, [], 1);
    return { id: root.id, label: root.label, options };
  });
}

/** A category's label, or its id when the list is not at hand. */
export function categoryLabel(id: string, categories: readonly IntentCategory[] | undefined): string {
  return categories?.find((c) => c.id === id)?.label ?? id;
}

// ---------------------------------------------------------------------------------------------
// States and verdicts in words

export const INTENT_STATE: Record<IntentView['state'], { text: string; tone: Tone }> = {
  open: { text: 'Open', tone: 'info' },
  accepted: { text: 'Accepted', tone: 'good' },
  closed: { text: 'Closed', tone: 'neutral' },
  expired: { text: 'Expired', tone: 'warn' },
};

export const OFFER_STATE: Record<OfferView['state'], { text: string; tone: Tone }> = {
  received: { text: 'Waiting for you', tone: 'info' },
  accepted: { text: 'Accepted', tone: 'good' },
  declined: { text: 'Declined', tone: 'bad' },
  withdrawn: { text: 'Withdrawn by the company', tone: 'warn' },
  closed: { text: 'Closed', tone: 'neutral' },
};

export const RECIPIENT_STATE: Record<string, string> = {
  sent: 'Sent',
  queued: 'Waiting to be delivered',
  failed: 'Not delivered',
  acknowledged: 'Received it',
  closed: 'Told it is closed',
  accepted: 'Offer accepted',
};

export const TERMS_DECISION: Record<string, string> = {
  accepted: 'accepted your terms',
  countered: 'countered your terms',
  rejected: 'refused your terms',
};

/** Why an offer falls short of what she asked, in words (protocol/intent/verdict.ts). */
export const SHORTFALL: Record<string, string> = {
  'over-budget': 'over your maximum price',
  'under-minimum': 'below your minimum price',
  'other-currency': 'in another currency',
  'too-few': 'fewer than you asked for',
  'too-late': 'arrives after your wanted-by date',
  'other-region': 'not delivered to your country',
  'other-category': 'in another category',
  unavailable: 'out of stock',
};

export function shortfallText(code: string): string {
  return SHORTFALL[code] ?? code;
}

/** Her rules that decline an offer by themselves (personal/handlers/intent.ts). */
export const RULE: Record<string, string> = {
  'outside-constraints': 'it does not meet what you asked for',
  'terms-refused': 'the company refused your terms',
};

export const AVAILABILITY: Record<string, string> = {
  InStock: 'In stock',
  LimitedAvailability: 'Limited stock',
  PreOrder: 'Pre-order',
  BackOrder: 'Back-ordered',
  MadeToOrder: 'Made to order',
  OutOfStock: 'Out of stock',
};

/** The company as she may know it: its name, "Anonymous company" for one her directory found. */
export function offerCompany(o: { company: string | null; anonymous: boolean; relationshipId: string }): string {
  const company = o.company === null ? null : theirText(o.company);
  const name = company ?? `Company ${o.relationshipId.slice(0, 8)}`;
  return o.anonymous ? `Anonymous company${company ? ` (${company})` : ''}` : name;
}

/** "up to 150 EUR", "from 50 to 150 EUR", "in EUR"; null without a price. */
export function priceRangeText(demand: IntentView['demand']): string | null {
  const p = demand.priceSpecification;
  if (!p) return null;
  if (p.minPrice !== undefined && p.maxPrice !== undefined) return `from ${p.minPrice} to ${p.maxPrice} ${p.priceCurrency}`;
  if (p.maxPrice !== undefined) return `up to ${p.maxPrice} ${p.priceCurrency}`;
  if (p.minPrice !== undefined) return `from ${p.minPrice} ${p.priceCurrency}`;
  return `in ${p.priceCurrency}`;
}

/** "DE", "DE 10115". */
export function regionText(demand: IntentView['demand']): string | null {
  const r = demand.eligibleRegion;
  if (!r) return null;
  return [r.addressCountry, r.addressRegion, r.postalCode].filter(Boolean).join(' ');
}

// ---------------------------------------------------------------------------------------------
// The new-intent form

export const ENDS_IN = [
  { id: '1d', label: '1 day', ms: 86_400_000 },
  { id: '3d', label: '3 days', ms: 3 * 86_400_000 },
  { id: '1w', label: '1 week', ms: 7 * 86_400_000 },
  { id: '2w', label: '2 weeks', ms: 14 * 86_400_000 },
  { id: '30d', label: '30 days', ms: 30 * 86_400_000 },
] as const;
export type EndsIn = (typeof ENDS_IN)[number]['id'];

export interface IntentDraft {
  description: string;
  category: string;
  minPrice: string;
  maxPrice: string;
  currency: string;
  currencyOnly: boolean;
  quantity: string;
  country: string;
  postalCode: string;
  /** YYYY-MM-DD, or empty. */
  wantedBy: string;
  outcome: string;
  endsIn: EndsIn;
  /** Relationship ids she sends it to. */
  to: string[];
  /** Also to the companies of her directory that serve the category, each from a fresh pairwise DID. */
  anonymous: boolean;
  /** Profile fields sent with it (none by default). */
  disclose: string[];
}

export function emptyDraft(to: string[] = []): IntentDraft {
  return { description: '', category: '', minPrice: '', maxPrice: '', currency: 'EUR', currencyOnly: false, quantity: '', country: '', postalCode: '', wantedBy: '', outcome: '', endsIn: '3d', to, anonymous: false, disclose: [] };
}

export type DraftField = keyof IntentDraft;
export type DraftErrors = Partial<Record<DraftField, string>>;

/** The labels the form shows, which every message names. */
export const FIELD_LABEL: Record<DraftField, string> = {
  description: 'What you want',
  category: 'Category',
  minPrice: 'Min price',
  maxPrice: 'Max price',
  currency: 'Currency',
  currencyOnly: 'Only offers in this currency',
  quantity: 'Quantity',
  country: 'Country',
  postalCode: 'Postal code',
  wantedBy: 'Wanted by',
  outcome: 'The outcome you are after',
  endsIn: 'Ends in',
  to: 'Send to',
  anonymous: 'Send to',
  disclose: 'Share up front',
};

const AMOUNT = /^(0|[1-9]\d{0,11})(\.\d{1,4})?$/;

/** "149,90" → "149.90", "0150" → "150"; undefined when it is not an amount the agent takes. */
export function normaliseAmount(text: string): string | undefined {
  const value = text.trim().replace(',', '.');
  const m = /^(\d+)(\.\d+)?$/.exec(value);
  if (!m) return undefined;
  const normal = `${m[1]!.replace(/^0+(?=\d)/, '')}${m[2] ?? ''}`;
  return AMOUNT.test(normal) ? normal : undefined;
}

/** Exact comparison of two decimal amounts (at most 4 places). */
function scaled(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0'));
}

/** Today in her time zone, YYYY-MM-DD (what a date input gives). */
export function localToday(now: number): string {
  const d = new Date(now);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/**
 * Checks the form and builds the cast's body. Every error names the field (as labelled) and the
 * rule; the body is there only when there is none.
 */
export function checkDraft(draft: IntentDraft, now: number): { errors: DraftErrors; body?: CastBody } {
  const errors: DraftErrors = {};
  const say = (field: DraftField, rule: string) => {
    errors[field] ??= `${FIELD_LABEL[field]}: ${rule}`;
  };

  const description = draft.description.trim();
  if (description === '') say('description', 'say what you want; it cannot be empty.');
  else if (description.length > 2000) say('description', `at most 2,000 characters (this is ${description.length.toLocaleString('en')}).`);

  const category = draft.category.trim();
  if (category === '') say('category', 'choose one.');
  else if (!/^[a-z][a-z-]{0,49}$/.test(category)) say('category', 'a category id in lower case, such as clothing or books.');

  const amountRule = 'write an amount such as 150 or 149.90 (digits, at most 4 decimals).';
  const minPrice = draft.minPrice.trim() === '' ? undefined : normaliseAmount(draft.minPrice);
  const maxPrice = draft.maxPrice.trim() === '' ? undefined : normaliseAmount(draft.maxPrice);
  if (draft.minPrice.trim() !== '' && minPrice === undefined) say('minPrice', amountRule);
  if (draft.maxPrice.trim() !== '' && maxPrice === undefined) say('maxPrice', amountRule);
  if (minPrice !== undefined && maxPrice !== undefined && scaled(maxPrice) < scaled(minPrice)) say('maxPrice', `must not be below the min price (${minPrice}).`);

  const currency = draft.currency.trim().toUpperCase();
  const pricing = draft.minPrice.trim() !== '' || draft.maxPrice.trim() !== '' || draft.currencyOnly;
  if (pricing && !/^[A-Z]{3}$/.test(currency)) say('currency', 'three letters (ISO 4217), such as EUR or USD.');

  let quantity: number | undefined;
  if (draft.quantity.trim() !== '') {
    quantity = /^\d+$/.test(draft.quantity.trim()) ? Number(draft.quantity.trim()) : Number.NaN;
    if (!Number.isSafeInteger(quantity) || quantity < 1 || quantity > 1_000_000) say('quantity', 'a whole number from 1 to 1,000,000.');
  }

  const country = draft.country.trim().toUpperCase();
  const postalCode = draft.postalCode.trim();
  if (country !== '' && !/^[A-Z]{2}$/.test(country)) say('country', 'a two-letter country code (ISO 3166-1), such as DE or FR.');
  if (postalCode !== '' && country === '') say('postalCode', 'give the country too.');
  if (postalCode.length > 20) say('postalCode', 'at most 20 characters.');

  const wantedBy = draft.wantedBy.trim();
  if (wantedBy !== '') {
    if (!isCalendarDate(wantedBy)) say('wantedBy', 'a date such as 2026-12-20.');
    else if (wantedBy < localToday(now)) say('wantedBy', 'must be today or later.');
  }

  const outcome = draft.outcome.trim();
  if (outcome.length > 1000) say('outcome', `at most 1,000 characters (this is ${outcome.length.toLocaleString('en')}).`);

  const ends = ENDS_IN.find((e) => e.id === draft.endsIn);
  if (!ends) say('endsIn', 'choose how long companies may answer.');

  if (draft.to.length === 0 && !draft.anonymous) say('to', 'choose at least one company, or ask the companies in your directory.');

  if (Object.keys(errors).length > 0 || !ends) return { errors };

  const body: CastBody = {
    demand: {
      '@type': 'Demand',
      description,
      category: category as CastBody['demand']['category'],
      ...(pricing
        ? {
            priceSpecification: {
              ...(minPrice !== undefined ? { minPrice } : {}),
              ...(maxPrice !== undefined ? { maxPrice } : {}),
              priceCurrency: currency,
            },
          }
        : {}),
      ...(quantity !== undefined ? { eligibleQuantity: { value: quantity } } : {}),
      ...(country !== '' ? { eligibleRegion: { addressCountry: country, ...(postalCode !== '' ? { postalCode } : {}) } } : {}),
      ...(wantedBy !== '' ? { availabilityEnds: wantedBy } : {}),
    },
    ...(outcome !== '' ? { outcome } : {}),
    expiresAt: now + ends.ms,
    ...(draft.currencyOnly ? { currencyRequired: true } : {}),
    ...(draft.to.length > 0 ? { to: [...draft.to] } : {}),
    ...(draft.anonymous ? { anonymous: true } : {}),
    ...(draft.disclose.length > 0 ? { disclose: [...draft.disclose] } : {}),
  };
  return { errors, body };
}

/** The order the form shows its fields in, for the summary of errors. */
export const DRAFT_ORDER: readonly DraftField[] = ['description', 'category', 'minPrice', 'maxPrice', 'currency', 'quantity', 'country', 'postalCode', 'wantedBy', 'outcome', 'endsIn', 'to', 'disclose'];

// ---------------------------------------------------------------------------------------------
// Her directory

/** One directory entry as shown: a failed last refresh is its problem, kept beside the companies last verified. */
export interface EntryShown {
  id: string;
  url: string;
  kind: DirectoryEntryView['kind'];
  companies: { name: string; categories: string[] }[];
  problem: string | undefined;
  checkedAt: number;
}

export function entryShown(entry: DirectoryEntryView): EntryShown {
  return {
    id: entry.id,
    url: entry.url,
    kind: entry.kind,
    companies: entry.companies.map((c) => ({ name: c.name, categories: [...c.categories] })),
    problem: entry.error ?? undefined,
    checkedAt: entry.checkedAt,
  };
}

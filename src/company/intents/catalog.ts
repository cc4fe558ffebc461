import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { describeZodIssues, tryParseJson } from '../../core/json.js';
import { amountSchema, currencySchema, type Demand, type Offer } from '../../protocol/families/intent.js';
import { intentCategorySchema, serves } from '../../protocol/intent/categories.js';
import { judgeOffer } from '../../protocol/intent/verdict.js';

/** One product or service the company offers automatically when an intent matches it. */
export const catalogItemSchema = z.strictObject({
  sku: z.string().min(1).max(100),
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  category: intentCategorySchema,
  gtin: z.string().regex(/^\d{8}$|^\d{12,14}$/).optional(),
  price: amountSchema,
  priceCurrency: currencySchema,
  /** How many it can sell now; 0 is out of stock (never offered automatically). */
  stock: z.number().int().min(0).max(1_000_000_000),
  /** Days from an order to delivery. */
  deliveryDays: z.number().int().min(0).max(365),
  /** Countries (ISO 3166-1 alpha-2) it delivers to or serves; empty: anywhere. */
  countries: z.array(z.string().regex(/^[A-Z]{2}$/)).max(250).default([]),
  conditions: z.string().max(2000).optional(),
});
export type CatalogItem = z.infer<typeof catalogItemSchema>;

export const catalogSchema = z.strictObject({ version: z.literal(1), items: z.array(catalogItemSchema).max(100_000) });
export type Catalog = z.infer<typeof catalogSchema>;

/** @throws ConfigError `config.not_found` | `config.invalid` naming the file and the members at fault */
export function loadCatalog(path: string): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('config.not_found', `Catalog file not found: ${path}`, { cause: error });
  }
  const json = tryParseJson(text);
  if (!json.ok) throw new ConfigError('config.invalid', `Catalog ${path} is not JSON`);
  const parsed = catalogSchema.safeParse(json.value);
  if (!parsed.success) throw new ConfigError('config.invalid', `Catalog ${path}: ${describeZodIssues(parsed.error).join('; ')}`);
  return parsed.data;
}

function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** An offer of `item` for a demand, before it is given its ids, parties, terms and validity. */
export type OfferDraft = Pick<Offer, 'itemOffered' | 'price' | 'priceCurrency' | 'eligibleQuantity' | 'availability' | 'deliveryDate' | 'conditions'> & { areaServed?: Offer['areaServed'] };

function draftFor(item: CatalogItem, demand: Demand, now: number): OfferDraft {
  const quantity = demand.eligibleQuantity?.value ?? 1;
  return {
    itemOffered: { name: item.name, ...(item.description ? { description: item.description } : {}), sku: item.sku, ...(item.gtin ? { gtin: item.gtin } : {}), category: item.category },
    price: item.price,
    priceCurrency: item.priceCurrency,
    eligibleQuantity: { value: quantity },
    availability: item.stock >= quantity ? 'InStock' : 'OutOfStock',
    deliveryDate: isoDate(now + item.deliveryDays * 86_400_000),
    ...(demand.eligibleRegion ? { areaServed: { addressCountry: demand.eligibleRegion.addressCountry } } : {}),
    ...(item.conditions ? { conditions: item.conditions } : {}),
  };
}

/** The words of a text that can tell items apart: letters and digits, four or more, lower case. */
function words(text: string): Set<string> {
  return new Set((text.toLowerCase().match(/[\p{L}\p{N}]{4,}/gu) ?? []).map((w) => w.replace(/s$/, '')));
}

/** How many of her words an item's name and description share (plural s ignored). */
function overlap(item: CatalogItem, wanted: Set<string>): number {
  const have = words(`${item.name} ${item.description ?? ''}`);
  return [...wanted].filter((w) => have.has(w)).length;
}

/**
 * The catalog items that meet a demand, best (most of her words, then cheapest, then soonest)
 * first, at most `limit`: an item must share a word with what she wrote, when she wrote any;
 * in a category the company serves, in stock for the quantity, delivered to her region, in time,
 * within her price range. When she requires her currency, only items priced in it; otherwise an
 * item in another currency is offered only if nothing in hers matches.
 */
export function matchCatalog(catalog: Catalog, demand: Demand, options: { now: number; servedCategories: readonly string[]; currencyRequired: boolean; limit: number }): OfferDraft[] {
  if (!serves(options.servedCategories, demand.category)) return [];
  const wanted = demand.priceSpecification?.priceCurrency;
  const described = words(demand.description);
  const candidates = catalog.items
    .filter((item) => described.size === 0 || overlap(item, described) > 0)
    // Her category, or a narrower one under it (an intent for electronics takes a laptop).
    .filter((item) => serves([demand.category], item.category))
    .filter((item) => item.countries.length === 0 || !demand.eligibleRegion || item.countries.includes(demand.eligibleRegion.addressCountry))
    .map((item) => ({ item, draft: draftFor(item, demand, options.now) }))
    // A price in another currency cannot be judged against her range: it passes here, and is offered only if nothing in hers is.
    .filter(({ draft }) => judgeOffer(demand, draft).reasons.every((r) => r === 'other-currency'));
  const inHers = candidates.filter(({ item }) => wanted === undefined || item.priceCurrency === wanted);
  const chosen = inHers.length > 0 || options.currencyRequired ? inHers : candidates;
  return chosen
    .sort((a, b) => overlap(b.item, described) - overlap(a.item, described) || Number(a.item.price) - Number(b.item.price) || a.item.deliveryDays - b.item.deliveryDays || a.item.sku.localeCompare(b.item.sku))
    .slice(0, options.limit)
    .map(({ draft }) => draft);
}

import { z } from 'zod';

/*
 * The categories an intent names and a company says it serves: one short, shipped list
 * (docs/protocol/intent.md), so that her agent can choose recipients and a company's rules can
 * match without free-text guessing. Ids are stable lower-case slugs. A company serving a parent
 * serves each of its children, and an intent for a parent takes an offer for any of its children.
 */

export interface IntentCategory {
  readonly id: string;
  readonly label: string;
  readonly parent: string | null;
}

const CATEGORY_LIST = [
  { id: 'goods', label: 'Goods', parent: null },
  { id: 'electronics', label: 'Electronics', parent: 'goods' },
  { id: 'computers', label: 'Computers and tablets', parent: 'electronics' },
  { id: 'phones', label: 'Phones', parent: 'electronics' },
  { id: 'home-appliances', label: 'Home appliances', parent: 'goods' },
  { id: 'furniture', label: 'Furniture', parent: 'goods' },
  { id: 'clothing', label: 'Clothing and shoes', parent: 'goods' },
  { id: 'outdoor-gear', label: 'Outdoor and camping gear', parent: 'goods' },
  { id: 'sports', label: 'Sports equipment', parent: 'goods' },
  { id: 'bicycles', label: 'Bicycles', parent: 'goods' },
  { id: 'books', label: 'Books', parent: 'goods' },
  { id: 'groceries', label: 'Groceries', parent: 'goods' },
  { id: 'tools', label: 'Tools and hardware', parent: 'goods' },
  { id: 'vehicles', label: 'Cars and vehicles', parent: 'goods' },
  { id: 'services', label: 'Services', parent: null },
  { id: 'energy', label: 'Electricity and gas supply', parent: 'services' },
  { id: 'telecom', label: 'Phone and internet plans', parent: 'services' },
  { id: 'insurance', label: 'Insurance', parent: 'services' },
  { id: 'financial-services', label: 'Banking and loans', parent: 'services' },
  { id: 'home-services', label: 'Repairs and home services', parent: 'services' },
  { id: 'travel', label: 'Travel and lodging', parent: 'services' },
  { id: 'education', label: 'Courses and education', parent: 'services' },
  { id: 'health', label: 'Health and care', parent: 'services' },
] as const satisfies readonly IntentCategory[];

export type IntentCategoryId = (typeof CATEGORY_LIST)[number]['id'];

export const INTENT_CATEGORIES: readonly IntentCategory[] = CATEGORY_LIST;

const ids = CATEGORY_LIST.map((c) => c.id) as [IntentCategoryId, ...IntentCategoryId[]];

/** One category id of the shipped list; anything else is refused (`intent.unknown_category` at the edges that name it). */
export const intentCategorySchema = z.enum(ids);

export function isIntentCategory(value: string): value is IntentCategoryId {
  return (ids as readonly string[]).includes(value);
}

/** Does a company serving `served` serve an intent in `wanted`? Yes for the same id or any of its ancestors. */
export function serves(served: readonly string[], wanted: IntentCategoryId): boolean {
  let current: string | null = wanted;
  while (current !== null) {
    if (served.includes(current)) return true;
    current = CATEGORY_LIST.find((c) => c.id === current)?.parent ?? null;
  }
  return false;
}

import { z } from 'zod';
import { claimNameSchema, legalBasisSchema, retentionSchema } from '../../protocol/families/disclose.js';
import { retentionAtMost } from '../../protocol/terms/compare.js';
import { purposeSchema } from '../../protocol/terms/roster.js';

/*
 * Her disclosure rules (decision 0020): which requests she need not see. An ordered list, first
 * match wins; a request no rule matches waits for her. Pure: the vocabulary, its words and the
 * evaluation. Storing them and answering by them is ruleBook.ts.
 *
 * Version 1 conditions: fields, purposes, legal bases, a retention cap, trust levels, specific
 * relationships, and personas (the self the company knows her by; an optional key added after the
 * first rule sets were written, so every earlier version-1 set stays valid).
 */

export const RULES_VERSION = 1;

/**
 * How far she trusts a company: `new` (no agreement in force), `agreed_terms` (an agreement both
 * signed is in force), `trusted` (she said so: `kith trust <rel> on`). A relationship has exactly one.
 */
export const TRUST_LEVELS = ['new', 'agreed_terms', 'trusted'] as const;
export const trustLevelSchema = z.enum(TRUST_LEVELS);
export type TrustLevel = z.infer<typeof trustLevelSchema>;

export const ruleActionSchema = z.enum(['approve', 'decline', 'ask']);
export type RuleAction = z.infer<typeof ruleActionSchema>;

/** A rule's id: short, typed by her (`kith rules remove <id>`), so a plain slug. */
export const ruleIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a lower-case slug of at most 40 characters');

const distinct = <T>(values: readonly T[]) => new Set(values).size === values.length;
const list = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .min(1)
    .max(max)
    .refine((v) => distinct(v), 'lists a value twice');

/** Every condition is optional; a rule matches when all it states hold. An empty `when` matches every request. */
export const ruleConditionsSchema = z.strictObject({
  /** Every field and claim the request asks for is among these (a request asking for more is not this rule's). */
  fields: list(claimNameSchema, 50).optional(),
  /** The request's purpose (its roster term, `purpose_code`) is one of these; a request naming none does not match. */
  purposes: list(purposeSchema, 7).optional(),
  legalBases: list(legalBasisSchema, 6).optional(),
  /** The request states a retention, and it cannot last longer than this. */
  maxRetention: retentionSchema.optional(),
  /** The relationship's trust level is one of these. */
  trust: list(trustLevelSchema, TRUST_LEVELS.length).optional(),
  /** Only these relationships (her local ids). */
  relationships: list(z.string().min(1).max(100), 1000).optional(),
  /** Only companies that know her by one of these personas (their ids). */
  personas: list(z.uuid(), 100).optional(),
});
export type RuleConditions = z.infer<typeof ruleConditionsSchema>;

export const ruleSchema = z
  .strictObject({
    id: ruleIdSchema,
    when: ruleConditionsSchema,
    /** approve: only the fields the rule names that she has; decline: refuse all; ask: leave it to her. */
    action: ruleActionSchema,
    /** Her own words for it, shown with the rule. */
    note: z.string().max(200).optional(),
  })
  // An approval that names no fields would approve whatever is asked: never.
  .refine((r) => r.action !== 'approve' || r.when.fields !== undefined, { message: 'an approve rule names the fields it approves', path: ['when', 'fields'] });
export type Rule = z.infer<typeof ruleSchema>;

/** What is kept in her vault settings (encrypted like every setting). */
export const ruleSetSchema = z
  .strictObject({
    version: z.literal(RULES_VERSION),
    /** On: every request waits for her, whatever the rules say. */
    manual: z.boolean(),
    rules: z.array(ruleSchema).max(200),
  })
  .refine((s) => distinct(s.rules.map((r) => r.id)), { message: 'two rules share an id', path: ['rules'] });
export type RuleSet = z.infer<typeof ruleSetSchema>;

/** A newcomer's rules: marketing declined, everything else asked. Protective, and easy to loosen. */
export const DEFAULT_RULE_SET: RuleSet = {
  version: RULES_VERSION,
  manual: false,
  rules: [
    { id: 'decline-marketing', when: { purposes: ['marketing'] }, action: 'decline', note: 'No marketing' },
    { id: 'ask-everything-else', when: {}, action: 'ask' },
  ],
};

/** What a rule is judged on: the request, the relationship's trust, and which fields she can give. */
export interface RequestFacts {
  /** Profile fields and credential claims asked for. */
  fields: readonly string[];
  purposeCode: string | null;
  legalBasis: string;
  retention: string | null;
  trust: TrustLevel;
  relationshipId: string;
  /** The persona the relationship uses. */
  persona: string;
  /** Whether she can disclose this field or claim (a value, or a credential holding it). */
  has(field: string): boolean;
}

export type RuleDecision =
  | { action: 'approve'; rule: Rule; fields: string[] }
  | { action: 'decline'; rule: Rule }
  /** `rule` null: no rule matched, or the switch is on. `missing`: an approve rule matched but she lacks these. */
  | { action: 'ask'; rule: Rule | null; reason: 'manual' | 'no_rule' | 'rule' | 'field_missing'; missing?: string[] };

function matches(when: RuleConditions, facts: RequestFacts): boolean {
  if (when.fields && !facts.fields.every((f) => when.fields?.includes(f))) return false;
  if (when.purposes && (facts.purposeCode === null || !(when.purposes as readonly string[]).includes(facts.purposeCode))) return false;
  if (when.legalBases && !(when.legalBases as readonly string[]).includes(facts.legalBasis)) return false;
  if (when.maxRetention && (facts.retention === null || !retentionAtMost(facts.retention, when.maxRetention))) return false;
  if (when.trust && !when.trust.includes(facts.trust)) return false;
  if (when.relationships && !when.relationships.includes(facts.relationshipId)) return false;
  if (when.personas && !when.personas.includes(facts.persona)) return false;
  return true;
}

/** First match wins. An approve rule never discloses a field she has not got: it then asks her instead. */
export function evaluateRules(set: RuleSet, facts: RequestFacts): RuleDecision {
  if (set.manual) return { action: 'ask', rule: null, reason: 'manual' };
  const rule = set.rules.find((r) => matches(r.when, facts));
  if (!rule) return { action: 'ask', rule: null, reason: 'no_rule' };
  if (rule.action === 'ask') return { action: 'ask', rule, reason: 'rule' };
  if (rule.action === 'decline') return { action: 'decline', rule };
  const missing = facts.fields.filter((f) => !facts.has(f));
  if (missing.length > 0) return { action: 'ask', rule, reason: 'field_missing', missing };
  return { action: 'approve', rule, fields: [...facts.fields] };
}

const TRUST_WORDS: Record<TrustLevel, string> = { new: 'new companies', agreed_terms: 'companies that agreed your terms', trusted: 'companies you trust' };

/** The rule in words, as listed and as recorded with each answer it made. */
export function ruleText(rule: Rule, relationshipName: (id: string) => string = (id) => id, personaName: (id: string) => string = (id) => id): string {
  const { when } = rule;
  const verb = { approve: 'Approve', decline: 'Decline', ask: 'Ask me about' }[rule.action];
  const what = when.fields ? when.fields.join(', ') : 'anything';
  const parts = [`${verb} ${what}`];
  if (when.purposes) parts.push(`for ${when.purposes.join(' or ')}`);
  if (when.legalBases) parts.push(`on the legal basis of ${when.legalBases.join(' or ')}`);
  if (when.maxRetention) parts.push(`kept at most ${when.maxRetention}`);
  if (when.trust) parts.push(`to ${when.trust.map((t) => TRUST_WORDS[t]).join(' or ')}`);
  if (when.personas) parts.push(`as your ${when.personas.map(personaName).join(' or ')} persona`);
  if (when.relationships) parts.push(`(only ${when.relationships.map(relationshipName).join(', ')})`);
  return parts.join(' ');
}

/**
 * A rule as she gives it (CLI flags, the API, a rule file): words not checked yet, so that an
 * unknown purpose or field gets its own code rather than a schema's. `id` is chosen when absent.
 */
export interface RuleInput {
  id?: string;
  when: { fields?: string[]; purposes?: string[]; legalBases?: string[]; maxRetention?: string; trust?: string[]; relationships?: string[]; personas?: string[] };
  action: string;
  note?: string;
}

/** A rule file (`kith rules set <file>`): the whole set at once. */
export interface RuleFile {
  version: number;
  manual?: boolean;
  rules: RuleInput[];
}

import { z } from 'zod';
import { RulesError } from '../../core/errors.js';
import { isProfileField } from '../../protocol/profile/fields.js';
import { PURPOSES } from '../../protocol/terms/roster.js';
import type { AgentCore } from '../core.js';
import type { DisclosureRequestRecord } from '../vault/disclosureRequestRepo.js';
import { personaOf } from '../vault/personaRepo.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';
import type { DisclosureFeature } from './disclosure.js';
import type { PersonasFeature } from '../personas.js';
import { DEFAULT_RULE_SET, evaluateRules, ruleSchema, ruleSetSchema, ruleText, RULES_VERSION, type Rule, type RuleDecision, type RuleSet, type TrustLevel } from './rules.js';

/*
 * Her rules at work (decision 0020): kept encrypted in her vault settings, edited one rule at a
 * time or replaced from a file (every change checked whole, so a bad one changes nothing), and
 * applied to each request as it arrives, after its transaction committed, through the same
 * approve/decline as her own answers.
 */

/** Settings key of her rule set (rules.ts `RuleSet`); absent means the default set. */
export const RULES_SETTING = 'disclosure.rules';
/** Settings key of the relationships she marked trusted (`kith trust <rel> on`): her local ids. */
export const TRUSTED_SETTING = 'disclosure.trusted';

const trustedSchema = z.array(z.string().min(1).max(100)).max(100_000);

export interface RuleView extends Rule {
  /** The rule in words (company names for relationships). */
  text: string;
}

export interface RulesView {
  version: number;
  /** On: every request waits for her. */
  manual: boolean;
  /** True while she has not changed the default set. */
  isDefault: boolean;
  rules: RuleView[];
}

export interface RuleTestView {
  requestId: string;
  trust: TrustLevel;
  action: RuleDecision['action'];
  rule: RuleView | null;
  /** Why it would wait for her: the switch, no rule matched, an ask rule, or a field she has not got. */
  reason: 'manual' | 'no_rule' | 'rule' | 'field_missing' | null;
  /** approve: what would be disclosed; field_missing: what she has not got. */
  fields: string[];
}

export interface RulesFeature {
  view(): RulesView;
  /** Adds a rule (`position`, 1-based; default: before the first rule that matches everything, else last). */
  add(input: unknown, position?: number): RulesView;
  remove(id: string): RulesView;
  move(id: string, position: number): RulesView;
  /** Replaces the whole set (a rule file: `{ version, manual, rules }`). */
  replace(input: unknown): RulesView;
  setManual(on: boolean): RulesView;
  /** What her rules would do with this request now (nothing is sent or changed). */
  test(requestRef: string): RuleTestView;
  trustOf(relationship: RelationshipRecord): TrustLevel;
  setTrusted(relationshipRef: string, on: boolean): { relationshipId: string; trust: TrustLevel };
  /** A request just arrived (stored, pending): answers it if a rule decides. Never throws. */
  judge(relationshipId: string, companyRequestId: string): Promise<void>;
}

export function createRulesFeature(core: AgentCore, disclosure: DisclosureFeature, personas: Pick<PersonasFeature, 'resolve'>): RulesFeature {
  const { vault, logger } = core;
  /** Requests being answered by a rule now: a request pushed and picked up at once is answered once. */
  const inFlight = new Set<string>();

  /**
   * Her stored set. One that no longer parses (written by a newer Kith, or damaged) is not
   * guessed at: every request waits for her until she replaces it.
   */
  function current(): RuleSet {
    const stored = vault.settings.get(RULES_SETTING);
    if (stored === undefined) return DEFAULT_RULE_SET;
    const parsed = ruleSetSchema.safeParse(stored);
    if (parsed.success) return parsed.data;
    logger.warn('disclosure_rules_unreadable', { issues: parsed.error.issues.length });
    return { version: RULES_VERSION, manual: true, rules: [] };
  }

  function trusted(): string[] {
    const parsed = trustedSchema.safeParse(vault.settings.get(TRUSTED_SETTING) ?? []);
    return parsed.success ? parsed.data : [];
  }

  const companyName = (id: string) => vault.relationships.get(id)?.vendorName ?? id;
  const personaName = (id: string) => vault.personas.get(id)?.label ?? '(a removed persona)';

  function viewOf(set: RuleSet): RulesView {
    return {
      version: set.version,
      manual: set.manual,
      isDefault: vault.settings.get(RULES_SETTING) === undefined,
      rules: set.rules.map((rule) => ({ ...rule, text: ruleText(rule, companyName, personaName) })),
    };
  }

  /** Whether she can disclose it from one persona (a profile value), or from a credential she holds. */
  function canDisclose(name: string, persona: string): boolean {
    if (isProfileField(name)) return vault.profile.get(name, persona) !== undefined;
    return vault.credentials.list().some((c) => c.claims.includes(name));
  }

  /**
   * Persona references (ids or labels) as ids, found as everywhere else (personas.ts); anything
   * else, an empty string included, is left for the rule's schema to refuse.
   * @throws PersonaError `persona.unknown`
   */
  function personaIds(references: unknown[]): unknown[] {
    return references.map((ref) => (typeof ref === 'string' && ref.trim() !== '' ? personas.resolve(ref).id : ref));
  }

  /**
   * One rule checked whole: the words it uses first (each with its own code), then its shape, then
   * whether an approval names only what she has. Relationship references become her ids.
   */
  function checkRule(input: unknown, taken: readonly string[]): Rule {
    const raw = (typeof input === 'object' && input !== null ? input : {}) as { id?: unknown; when?: { purposes?: unknown; fields?: unknown; relationships?: unknown; personas?: unknown } };
    const when = typeof raw.when === 'object' && raw.when !== null ? raw.when : {};
    const purposes = Array.isArray(when.purposes) ? when.purposes : [];
    const unknownPurposes = purposes.filter((p) => typeof p !== 'string' || !(PURPOSES as readonly string[]).includes(p));
    if (unknownPurposes.length > 0) {
      throw new RulesError('rules.unknown_purpose', `Unknown purpose: ${unknownPurposes.map(String).join(', ')} (known: ${PURPOSES.join(', ')})`, { details: { purposes: unknownPurposes.map(String) } });
    }
    const fields = Array.isArray(when.fields) ? when.fields : [];
    const held = new Set(vault.credentials.list().flatMap((c) => c.claims));
    const unknownFields = fields.filter((f) => typeof f !== 'string' || (!isProfileField(f) && !held.has(f)));
    if (unknownFields.length > 0) {
      throw new RulesError('rules.unknown_field', `Not a profile field or a claim of a credential you hold: ${unknownFields.map(String).join(', ')}`, { details: { fields: unknownFields.map(String) } });
    }
    const relationships = Array.isArray(when.relationships) ? when.relationships.map((r) => (typeof r === 'string' ? core.find(r).id : r)) : undefined;
    const personas = Array.isArray(when.personas) ? personaIds(when.personas) : undefined;
    const id = raw.id ?? nextId(taken);
    const parsed = ruleSchema.safeParse({ ...raw, id, when: { ...when, ...(relationships ? { relationships } : {}), ...(personas ? { personas } : {}) } });
    if (!parsed.success) throw invalid(parsed.error);
    const rule = parsed.data;
    if (taken.includes(rule.id)) throw new RulesError('rules.invalid', `There is already a rule "${rule.id}"`, { details: { id: rule.id } });
    if (rule.action === 'approve') {
      // Held by every persona the rule is for; a rule for any persona needs one that holds it.
      const scope = rule.when.personas ?? vault.personas.list().map((p) => p.id);
      const missing = (rule.when.fields ?? []).filter((f) => (rule.when.personas ? !scope.every((p) => canDisclose(f, p)) : !scope.some((p) => canDisclose(f, p))));
      if (missing.length > 0) {
        throw new RulesError('rules.field_not_held', `You have no value for: ${missing.join(', ')}; a rule cannot approve what you have not got (set it with \`kith profile set\` first)`, {
          details: { fields: missing },
        });
      }
    }
    return rule;
  }

  function nextId(taken: readonly string[]): string {
    for (let n = 1; ; n++) if (!taken.includes(`rule-${n}`)) return `rule-${n}`;
  }

  function invalid(error: z.ZodError): RulesError {
    const issues = error.issues.map((i) => `${i.path.join('.') || '(rule)'}: ${i.message}`);
    return new RulesError('rules.invalid', `Not a valid rule: ${issues.join('; ')}`, { details: { issues: error.issues.map((i) => i.path.join('.')) } });
  }

  /** The whole set checked again before it is written (its size, unique ids): a bad one writes nothing. */
  function save(set: RuleSet): RulesView {
    const parsed = ruleSetSchema.safeParse(set);
    if (!parsed.success) throw invalid(parsed.error);
    vault.settings.set(RULES_SETTING, parsed.data);
    return viewOf(parsed.data);
  }

  function indexOf(set: RuleSet, id: string): number {
    const index = set.rules.findIndex((r) => r.id === id);
    if (index < 0) throw new RulesError('rules.unknown_rule', `No rule "${id}" (list them with \`kith rules list\`)`, { details: { id } });
    return index;
  }

  function checkPosition(position: number, max: number): number {
    if (!Number.isInteger(position) || position < 1 || position > max) throw new RulesError('rules.invalid', `Position ${position} is not between 1 and ${max}`, { details: { position } });
    return position - 1;
  }

  function factsOf(request: DisclosureRequestRecord, relationship: RelationshipRecord) {
    return {
      fields: [...request.fields, ...request.credentials.flatMap((c) => c.claims)],
      purposeCode: request.purposeCode ?? null,
      legalBasis: request.legalBasis,
      retention: request.retention,
      trust: trustOf(relationship),
      relationshipId: relationship.id,
      persona: personaOf(relationship),
      has: (name: string) => canDisclose(name, personaOf(relationship)),
    };
  }

  function trustOf(relationship: RelationshipRecord): TrustLevel {
    if (trusted().includes(relationship.id)) return 'trusted';
    return vault.agreements.current(relationship.id) ? 'agreed_terms' : 'new';
  }

  return {
    view: () => viewOf(current()),
    add(input, position) {
      const set = current();
      const rule = checkRule(input, set.rules.map((r) => r.id));
      const catchAll = set.rules.findIndex((r) => Object.keys(r.when).length === 0);
      const at = position === undefined ? (catchAll < 0 ? set.rules.length : catchAll) : checkPosition(position, set.rules.length + 1);
      return save({ ...set, rules: [...set.rules.slice(0, at), rule, ...set.rules.slice(at)] });
    },
    remove(id) {
      const set = current();
      const index = indexOf(set, id);
      return save({ ...set, rules: set.rules.filter((_, i) => i !== index) });
    },
    move(id, position) {
      const set = current();
      const index = indexOf(set, id);
      const to = checkPosition(position, set.rules.length);
      const rules = set.rules.filter((_, i) => i !== index);
      rules.splice(to, 0, set.rules[index] as Rule);
      return save({ ...set, rules });
    },
    replace(input) {
      const raw = (typeof input === 'object' && input !== null ? input : {}) as { version?: unknown; manual?: unknown; rules?: unknown };
      if (raw.version !== RULES_VERSION) throw new RulesError('rules.invalid', `A rule file has "version": ${RULES_VERSION}`, { details: { version: String(raw.version) } });
      if (!Array.isArray(raw.rules)) throw new RulesError('rules.invalid', 'A rule file has a "rules" list');
      const rules: Rule[] = [];
      for (const item of raw.rules) rules.push(checkRule(item, rules.map((r) => r.id)));
      const parsed = ruleSetSchema.safeParse({ version: RULES_VERSION, manual: raw.manual ?? false, rules });
      if (!parsed.success) throw invalid(parsed.error);
      return save(parsed.data);
    },
    setManual: (on) => save({ ...current(), manual: on }),
    test(requestRef) {
      const request = disclosure.request(requestRef);
      const relationship = core.find(request.relationshipId);
      const facts = factsOf(request, relationship);
      const decision = evaluateRules(current(), facts);
      return {
        requestId: request.id,
        trust: facts.trust,
        action: decision.action,
        rule: decision.rule ? { ...decision.rule, text: ruleText(decision.rule, companyName, personaName) } : null,
        reason: decision.action === 'ask' ? decision.reason : null,
        fields: decision.action === 'approve' ? decision.fields : decision.action === 'ask' ? (decision.missing ?? []) : [],
      };
    },
    trustOf,
    setTrusted(relationshipRef, on) {
      const relationship = core.find(relationshipRef);
      const others = trusted().filter((id) => id !== relationship.id);
      vault.settings.set(TRUSTED_SETTING, on ? [...others, relationship.id] : others);
      return { relationshipId: relationship.id, trust: trustOf(relationship) };
    },
    async judge(relationshipId, companyRequestId) {
      const request = vault.disclosureRequests.findByRequestId(relationshipId, companyRequestId);
      const relationship = vault.relationships.get(relationshipId);
      if (!request || !relationship || request.state !== 'pending' || inFlight.has(request.id)) return;
      const decision = evaluateRules(current(), factsOf(request, relationship));
      if (decision.action === 'ask') {
        logger.info('disclosure_rule_asks', { relationship: relationshipId, request: request.id, reason: decision.reason, ...(decision.rule ? { rule: decision.rule.id } : {}) });
        return;
      }
      const by = { ruleId: decision.rule.id, ruleText: ruleText(decision.rule, companyName, personaName) };
      inFlight.add(request.id);
      try {
        await disclosure.answerByRule(request.id, decision.action === 'approve' ? 'approved' : 'declined', decision.action === 'approve' ? decision.fields : undefined, by);
      } catch (error) {
        // Unanswered (the company unreachable, or it refused): the request waits for her, as any other.
        logger.warn('disclosure_rule_failed', { relationship: relationshipId, request: request.id, rule: by.ruleId, code: error instanceof Error && 'code' in error ? String(error.code) : 'internal' });
      } finally {
        inFlight.delete(request.id);
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import { toEpochSeconds } from '../core/clock.js';
import { DisclosureError, IntentError, KithError } from '../core/errors.js';
import type { LocalIdentity } from '../protocol/agent/identity.js';
import { outgoing } from '../protocol/buildMessage.js';
import { buildConsentRecord } from '../protocol/consentRecord.js';
import { Intent } from '../protocol/families/index.js';
import { demandSchema, type Demand, type IntentDisclosure, type Offer } from '../protocol/families/intent.js';
import { presentSelfIssued } from '../protocol/sdjwt/index.js';
import type { OfferShortfall } from '../protocol/intent/verdict.js';
import type { AgentCore } from './core.js';
import type { DirectoryFeature } from './directory.js';
import type { Opener } from './opening.js';
import type { TermsFeature } from './terms.js';
import type { PersonasFeature } from './personas.js';
import { personaOf } from './vault/personaRepo.js';
import type { IntentRecord } from './vault/intentRepo.js';
import type { OfferRecord } from './vault/offerRepo.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';

/*
 * Her intents (docs/protocol/intent.md): she casts what she wants to companies she chose, each
 * over its own relationship with its own intent id; offers come back signed, judged against her
 * demand; her rule declines those outside her constraints; she compares the rest and accepts one,
 * and every other company is told the intent is closed.
 */

export interface CastInput {
  demand: Demand;
  outcome?: string;
  /** When the intent ends (ms since the epoch). */
  expiresAt: number;
  /** Offers must be in the demand's currency. */
  currencyRequired?: boolean;
  /** Relationships (references) to cast to; default every live one, unless `anonymous` alone. */
  to?: readonly string[];
  /**
   * Also cast to every company of her directory that serves the category, each from a fresh
   * pairwise DID the cast opens (a company she already casts to over `to` is skipped).
   */
  anonymous?: boolean;
  /**
   * Profile fields disclosed to every recipient with the cast (none by default): a self-issued
   * SD-JWT per recipient, bound to its cast, kept by both sides under a consent record.
   */
  disclose?: readonly string[];
  /**
   * The persona the relationships an anonymous cast opens use (default: her default persona).
   * Relationships cast to over `to` disclose from the persona each already uses.
   */
  persona?: string;
}

export interface OfferView {
  id: string;
  intentId: string;
  relationshipId: string;
  company: string | null;
  /** From a company her directory found, answering a fresh pairwise DID (not an existing relationship). */
  anonymous: boolean;
  state: OfferRecord['state'];
  offer: Offer;
  meets: boolean;
  shortfalls: OfferShortfall[];
  decidedBy: string | null;
  receivedAt: number;
}

export interface IntentView {
  id: string;
  state: IntentRecord['state'];
  demand: Demand;
  outcome: string | null;
  expiresAt: number;
  acceptedOfferId: string | null;
  /** Profile fields she disclosed up front with the cast (none by default). */
  disclosed: string[];
  recipients: { relationshipId: string; company: string | null; anonymous: boolean; state: string; termsDecision: string | null }[];
  offers: number;
  createdAt: number;
}

export interface IntentsFeature {
  /**
   * Casts an intent to live relationships, each with its own intent id, and records the answers
   * (automatic offers come back on the same response).
   * @throws IntentError `intent.expired` for a past expiry; a zod-checked demand (`intent.unknown_category` for a category off the list)
   */
  cast(input: CastInput): Promise<IntentView & { unreached: number }>;
  list(): IntentView[];
  intent(reference: string): IntentView;
  /** The offers for one intent, for comparing side by side: cheapest first. */
  offers(intentReference: string): OfferView[];
  /**
   * Accepts one offer; every other company she cast to is told the intent is closed. `linkTo` (a
   * relationship reference) records, in her vault only, that an anonymous offer's company is the
   * one of that relationship. @throws IntentError `intent.not_recipient` when linking to another company
   */
  accept(offerReference: string, options?: { linkTo?: string }): Promise<OfferView>;
  decline(offerReference: string, reason?: string): Promise<OfferView>;
  /** Closes an intent: every company she cast it to is told. */
  close(intentReference: string): Promise<IntentView>;
  /** Her rule declining an offer by itself (see handlers/intent.ts). */
  declineByRule(offerId: string): Promise<void>;
  /**
   * The sweep: her open intents past their end become `expired`, and offers she had not answered
   * `closed` (the companies expire theirs by the same end, so nothing is sent). @returns how many expired
   */
  expireDue(): number;
}

/** By id or a unique id prefix of at least 4 characters. */
function byReference<T extends { id: string }>(all: readonly T[], reference: string, unknown: () => KithError): T {
  const exact = all.find((r) => r.id === reference);
  if (exact) return exact;
  const matches = reference.length >= 4 ? all.filter((r) => r.id.startsWith(reference)) : [];
  if (matches.length !== 1 || !matches[0]) throw unknown();
  return matches[0];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Why she discloses fields with a cast, as both consent records say. */
const UP_FRONT_PURPOSE = 'To be answered about this intent';
/** The roster agreement every intent proffers: the company may contact her only about what she asked for. */
const INTENT_AGREEMENT = 'https://kith.invalid/terms/agreements/intent-only-contact';

export interface IntentsFeatureOptions {
  /** Her directory: the companies an anonymous cast goes to. */
  directory: DirectoryFeature;
  /** Opens a relationship from a fresh pairwise DID with a first message (personal/opening.ts). */
  open: Opener;
  /** Signs her terms proffer for an anonymous recipient. */
  terms: Pick<TermsFeature, 'openingProffer'>;
  personas: Pick<PersonasFeature, 'resolve'>;
}

export function createIntentsFeature(core: AgentCore, options: IntentsFeatureOptions): IntentsFeature {
  const { vault, clock, logger } = core;
  const { directory, open, terms, personas } = options;
  const companyOf = (relationshipId: string) => vault.relationships.get(relationshipId)?.vendorName ?? null;

  function intentView(intent: IntentRecord): IntentView {
    const accepted = intent.acceptedOfferId === null ? undefined : vault.offers.get(intent.acceptedOfferId);
    return {
      id: intent.id,
      state: intent.state,
      demand: intent.demand,
      outcome: intent.outcome,
      disclosed: intent.disclose,
      expiresAt: intent.expiresAt,
      acceptedOfferId: intent.acceptedOfferId,
      recipients: vault.intentRecipients.listForIntent(intent.id).map((r) => ({
        relationshipId: r.relationshipId,
        company: companyOf(r.relationshipId),
        anonymous: r.anonymous,
        // The company whose offer she accepted shows so, rather than only "acknowledged".
        state: accepted?.recipientId === r.id ? 'accepted' : r.state,
        termsDecision: r.termsDecision,
      })),
      offers: vault.offers.listForIntent(intent.id).length,
      createdAt: intent.createdAt,
    };
  }

  function offerView(offer: OfferRecord): OfferView {
    return {
      id: offer.id,
      intentId: offer.intentId,
      relationshipId: offer.relationshipId,
      company: companyOf(offer.relationshipId),
      anonymous: vault.intentRecipients.get(offer.recipientId)?.anonymous ?? false,
      state: offer.state,
      offer: offer.signed.offer,
      meets: offer.verdict.meets,
      shortfalls: offer.verdict.reasons as OfferShortfall[],
      decidedBy: offer.decidedBy,
      receivedAt: offer.createdAt,
    };
  }

  const findIntent = (reference: string) => byReference(vault.intents.list(), reference, () => new IntentError('intent.unknown', `No intent "${reference}"`));
  const findOffer = (reference: string) => byReference(vault.offers.all(), reference, () => new IntentError('intent.offer_unknown', `No offer "${reference}"`));

  /** Tells one company she answered an offer (or closed the intent); its ack's handler records it. */
  async function tell(relationship: RelationshipRecord, message: ReturnType<typeof outgoing>): Promise<void> {
    await core.exchange(relationship, message, { returnRoute: true, expects: [Intent.answerAck] });
  }

  async function closeOthers(intent: IntentRecord, except: string | null, reason: 'accepted-elsewhere' | 'closed'): Promise<void> {
    for (const recipient of vault.intentRecipients.listForIntent(intent.id)) {
      if (recipient.relationshipId === except || recipient.state === 'closed' || recipient.state === 'failed') continue;
      const relationship = vault.relationships.get(recipient.relationshipId);
      if (!relationship || relationship.state === 'cut_off') continue;
      try {
        await tell(relationship, outgoing(Intent.closed, { intent_id: recipient.recipientIntentId, reason }));
      } catch (error) {
        // The company is told when it next sends an offer (refused as intent.closed); nothing of hers waits on it.
        logger.info('intent_close_not_delivered', { relationship: relationship.id, code: error instanceof KithError ? error.code : 'internal' });
        vault.intentRecipients.update(recipient.id, { state: 'closed' });
      }
    }
  }

  /**
   * What she discloses up front with one cast, per recipient: the presentation (from the pairwise
   * DID that sends the cast, for that company, bound to the cast's id) and her pending consent
   * record, made active by the company's answer (handlers/intent.ts). Kept until the intent ends.
   */
  function upFront(fields: readonly string[], endsAt: number, now: number, persona: string) {
    const retention = `P${Math.max(1, Math.ceil((endsAt - now) / DAY_MS))}D`;
    const profileVersion = vault.profile.currentVersion();
    const claims = Object.fromEntries(fields.map((field) => [field, vault.profile.get(field, persona)?.value]));
    return {
      async present(identity: LocalIdentity, companyDid: string, messageId: string): Promise<IntentDisclosure> {
        const sdJwt = await presentSelfIssued(identity, claims, { audience: companyDid, nonce: messageId, issuedAt: toEpochSeconds(now) });
        return { consent_record_id: randomUUID(), purpose: UP_FRONT_PURPOSE, retention, profile_version: profileVersion, fields: [...fields], presentation: { format: 'dc+sd-jwt', sd_jwt: sdJwt } };
      },
      pendingConsent(relationship: RelationshipRecord, disclosure: IntentDisclosure, recipientIntentId: string): void {
        const record = buildConsentRecord({
          recordId: disclosure.consent_record_id,
          principalDid: relationship.myDid,
          controller: { name: relationship.vendorName, did: relationship.theirDid },
          requestId: recipientIntentId,
          termsRef: INTENT_AGREEMENT,
          purpose: UP_FRONT_PURPOSE,
          legalBasis: 'consent',
          retention,
          categories: fields.map((category) => ({ category, source: 'pii_principal' as const, issuer: null })),
          state: 'pending',
          requestedAt: now,
          answeredAt: now,
        });
        vault.consents.insert({ id: disclosure.consent_record_id, relationshipId: relationship.id, requestId: null, state: 'pending', record, createdAt: now });
      },
    };
  }

  /**
   * The relationship she says an offer's company is: the same company's DID, another relationship.
   * @throws IntentError `intent.not_recipient` otherwise; RelationshipError `relationship.unknown`
   */
  function linkTarget(offerRelationship: RelationshipRecord, reference: string): RelationshipRecord {
    const target = core.find(reference);
    if (target.id === offerRelationship.id || target.theirDid !== offerRelationship.theirDid) {
      throw new IntentError('intent.not_recipient', 'Only another relationship with the same company can be linked to this offer’s');
    }
    return target;
  }

  async function answer(offerReference: string, decision: 'accepted' | 'declined', extra: { reason?: string; decidedBy?: string; linkTo?: string } = {}): Promise<OfferView> {
    const { reason, decidedBy } = extra;
    const offer = findOffer(offerReference);
    const intent = vault.intents.get(offer.intentId);
    if (intent?.state === 'expired') throw new IntentError('intent.expired', 'This intent has ended');
    if (offer.state !== 'received') throw new IntentError('intent.replayed', `This offer was already ${offer.state}`);
    if (!intent || intent.state !== 'open') throw new IntentError('intent.closed', `This intent is ${intent?.state ?? 'gone'}`);
    if (decision === 'accepted' && Date.parse(offer.signed.offer.validThrough) <= clock.now()) throw new IntentError('intent.offer_expired', 'This offer is no longer valid');
    const relationship = core.find(offer.relationshipId);
    core.requireLive(relationship);
    const linked = extra.linkTo === undefined ? undefined : linkTarget(relationship, extra.linkTo);
    const intentId = offer.signed.offer.intent_id;
    await tell(relationship, decision === 'accepted' ? outgoing(Intent.accept, { intent_id: intentId, offer_id: offer.id }) : outgoing(Intent.decline, { intent_id: intentId, offer_id: offer.id, ...(reason ? { reason } : {}) }));
    if (decidedBy) vault.offers.update(offer.id, { state: 'declined', decidedBy });
    const settled = vault.offers.get(offer.id);
    if (settled?.state !== decision) throw new IntentError('intent.offer_unknown', 'The company did not acknowledge the answer; try again');
    if (decision === 'accepted') {
      if (linked) vault.relationships.update(relationship.id, { linkedTo: linked.id });
      await closeOthers(intent, relationship.id, 'accepted-elsewhere');
      vault.offers.setStateForIntent(intent.id, { state: 'closed', from: ['received'] });
    }
    logger.info('intent_offer_answered', { intent: intent.id, decision, ...(decidedBy ? { rule: decidedBy } : {}) });
    return offerView(settled);
  }

  return {
    async cast(input) {
      const demand = demandSchema.safeParse(input.demand);
      if (!demand.success) {
        const category = demand.error.issues.some((i) => i.path.join('.') === 'category');
        throw new IntentError(category ? 'intent.unknown_category' : 'intent.offer_invalid', `Invalid demand: ${demand.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`);
      }
      const now = clock.now();
      // On the hour, so that the end she chose does not single her out among the companies' casts.
      const endsAt = Math.ceil(input.expiresAt / HOUR_MS) * HOUR_MS;
      if (input.expiresAt <= now) throw new IntentError('intent.expired', 'The intent would end before it starts');
      const castDemand = { ...demand.data, validThrough: new Date(endsAt).toISOString().replace('.000Z', 'Z') };
      // Every relationship is read (and decrypted) once: looking each up by reference again was quadratic.
      const chosen = input.to === undefined ? (input.anonymous ? [] : vault.relationships.list()) : input.to.map((ref) => core.find(ref));
      const targets = chosen.filter((r) => r.state === 'active' || r.state === 'muted');
      // A company she already casts to over a relationship is not sent the same intent from a second DID.
      const strangers = input.anonymous ? directory.companiesFor(castDemand.category).filter((c) => !targets.some((t) => t.theirDid === c.identifier)) : [];
      if (targets.length + strangers.length === 0) {
        throw new IntentError('intent.no_recipients', input.anonymous ? 'No relationship was chosen and no company of her directory serves this category' : 'No live relationship to cast to');
      }
      const disclose = [...new Set(input.disclose ?? [])];
      // Each recipient is disclosed to from the persona it knows her by; new ones from the cast's persona.
      const castPersona = personas.resolve(input.persona).id;
      const usedPersonas = new Set([...targets.map((r) => personaOf(r)), ...(strangers.length > 0 ? [castPersona] : [])]);
      const missing = [...new Set([...usedPersonas].flatMap((persona) => disclose.filter((field) => vault.profile.get(field, persona) === undefined)))];
      if (missing.length > 0) {
        throw new DisclosureError('disclosure.field_unavailable', `You have no value for: ${missing.join(', ')} (set it with \`kith profile set\`)`, { details: { fields: missing } });
      }
      const intent = vault.intents.insert({
        demand: castDemand,
        outcome: input.outcome ?? null,
        currencyRequired: input.currencyRequired ?? false,
        expiresAt: endsAt,
        agreementId: INTENT_AGREEMENT,
        disclose,
      });
      const upFronts = new Map<string, ReturnType<typeof upFront>>();
      const sharedFor = (persona: string) => {
        if (disclose.length === 0) return undefined;
        const existing = upFronts.get(persona);
        if (existing) return existing;
        const made = upFront(disclose, endsAt, now, persona);
        upFronts.set(persona, made);
        return made;
      };
      const body = (intentId: string, disclosure?: IntentDisclosure) => ({
        intent_id: intentId,
        demand: castDemand,
        ...(input.outcome ? { outcome: input.outcome } : {}),
        currency_required: input.currencyRequired ?? false,
        ...(disclosure ? { disclosure } : {}),
      });
      let unreached = 0;
      await Promise.all([
        ...targets.map(async (relationship) => {
          const recipient = vault.intentRecipients.insert({ intentId: intent.id, relationshipId: relationship.id, recipientIntentId: randomUUID() });
          const messageId = randomUUID();
          let disclosure: IntentDisclosure | undefined;
          const shared = sharedFor(personaOf(relationship));
          try {
            disclosure = shared ? await shared.present(core.identityOf(relationship), relationship.theirDid, messageId) : undefined;
            if (disclosure && shared) shared.pendingConsent(relationship, disclosure, recipient.recipientIntentId);
            // Each company gets its own intent id and message; an automatic offer or an ack comes back on the response.
            await core.exchange(relationship, outgoing(Intent.cast, body(recipient.recipientIntentId, disclosure)), { returnRoute: true, expects: [Intent.offer, Intent.ack], id: messageId });
          } catch (error) {
            // Not received: nothing was disclosed, so her pending consent goes.
            if (disclosure && vault.consents.get(disclosure.consent_record_id)?.state === 'pending') vault.consents.remove(disclosure.consent_record_id);
            vault.intentRecipients.update(recipient.id, { state: 'failed' });
            logger.info('intent_cast_failed', { relationship: relationship.id, code: error instanceof KithError ? error.code : 'internal' });
          }
        }),
        ...strangers.map(async (company) => {
          const recipientIntentId = randomUUID();
          let disclosure: IntentDisclosure | undefined;
          const shared = sharedFor(castPersona);
          try {
            // A fresh pairwise DID: the cast opens the relationship and proffers her terms, signed by it.
            await open({
              companyDid: company.identifier,
              vendorName: company.name,
              invitationId: null,
              persona: castPersona,
              expects: [Intent.offer, Intent.ack],
              noAnswer: 'refused',
              first: async (identity) => {
                const messageId = randomUUID();
                disclosure = shared ? await shared.present(identity, company.identifier, messageId) : undefined;
                return {
                  type: Intent.cast.type,
                  id: messageId,
                  body: { ...body(recipientIntentId, disclosure), terms: { agreement: await terms.openingProffer(identity, company.identifier, INTENT_AGREEMENT) } },
                };
              },
              within: (relationship) => {
                vault.intentRecipients.insert({ intentId: intent.id, relationshipId: relationship.id, recipientIntentId, anonymous: true });
                if (disclosure && shared) shared.pendingConsent(relationship, disclosure, recipientIntentId);
              },
            });
          } catch (error) {
            // Nothing of an opening that failed is kept: the company never got her DID's relationship.
            unreached += 1;
            logger.info('intent_cast_failed', { anonymous: true, code: error instanceof KithError ? error.code : 'internal' });
          }
        }),
      ]);
      logger.info('intent_cast', { intent: intent.id, recipients: targets.length, anonymous: strangers.length - unreached, unreached });
      return { ...intentView(vault.intents.get(intent.id) ?? intent), unreached };
    },

    list: () => vault.intents.list().map(intentView),
    intent: (reference) => intentView(findIntent(reference)),
    offers(reference) {
      const intent = findIntent(reference);
      return vault.offers
        .listForIntent(intent.id)
        .map(offerView)
        .sort((a, b) => Number(a.offer.price) - Number(b.offer.price));
    },
    accept: (reference, acceptOptions = {}) => answer(reference, 'accepted', acceptOptions.linkTo === undefined ? {} : { linkTo: acceptOptions.linkTo }),
    decline: (reference, reason) => answer(reference, 'declined', reason === undefined ? {} : { reason }),

    async close(reference) {
      const intent = findIntent(reference);
      if (intent.state !== 'open') throw new IntentError('intent.closed', `This intent is already ${intent.state}`);
      vault.intents.update(intent.id, { state: 'closed', from: ['open'] });
      await closeOthers(intent, null, 'closed');
      vault.offers.setStateForIntent(intent.id, { state: 'closed', from: ['received'] });
      return intentView(vault.intents.get(intent.id) ?? intent);
    },

    expireDue() {
      const now = clock.now();
      let expired = 0;
      for (const intent of vault.intents.list({ state: 'open' })) {
        if (intent.expiresAt > now) continue;
        vault.transaction(() => {
          if (!vault.intents.update(intent.id, { state: 'expired', from: ['open'] })) return;
          vault.offers.setStateForIntent(intent.id, { state: 'closed', from: ['received'] });
          expired += 1;
        });
      }
      if (expired > 0) logger.info('intents_expired', { count: expired });
      return expired;
    },

    async declineByRule(offerId) {
      const offer = vault.offers.get(offerId);
      if (!offer?.decidedBy) return;
      try {
        await answer(offerId, 'declined', { reason: `Declined by her rule: ${offer.decidedBy}`, decidedBy: offer.decidedBy });
      } catch (error) {
        logger.info('intent_rule_decline_failed', { offer: offerId, code: error instanceof KithError ? error.code : 'internal' });
      }
    },
  };
}

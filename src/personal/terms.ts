import { z } from 'zod';
import { KithError, TermsError } from '../core/errors.js';
import type { LocalIdentity } from '../protocol/agent/identity.js';
import { signingKeyOf } from '../protocol/agent/identity.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import { Terms } from '../protocol/families/index.js';
import type { TermsProfferBody, TermsResponseBody } from '../protocol/families/terms.js';
import { outgoing } from '../protocol/buildMessage.js';
import { buildAgreementRecord, countersign, signAgreement, type SignedAgreement } from '../protocol/terms/agreementRecord.js';
import { isAtLeastAsProtective, type ObligationName } from '../protocol/terms/compare.js';
import { checkProffer, checkResponse, decideOnProffer, type CheckedRecord, type CheckedResponse } from '../protocol/terms/negotiate.js';
import { agreementShortName, findAgreement, termsError, type Agreement, type Obligations, type Roster } from '../protocol/terms/roster.js';
import type { RosterSet } from '../protocol/terms/rosterSet.js';
import { PUBLISHED_AGREEMENTS, acceptedFromMyTerms, parseMyTermsDocument, type MyTermsDocument, type PublishedAgreement } from '../protocol/terms/published.js';
import type { AgentCore } from './core.js';
import type { AgreementEntry } from './vault/agreementRepo.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

/*
 * Her side of terms (docs/protocol/terms.md): default terms proffered on every connect, a new
 * proffer to one company at any time, her own rule for counters and company proffers (accept when
 * at least as protective on every obligation, else ask her), and the records both sides keep.
 */

/** Settings key of her default terms (an agreement id). */
export const DEFAULT_TERMS_SETTING = 'terms.default';

/**
 * What `kith init` sets as her default terms (issue 16 item 5, decision 0020): of the bundled
 * roster (docs/terms/kith-roster-1.json), the most protective agreement a company can reasonably
 * accept. service-only protects more, but forbids every processor (no hosting, no payment
 * provider) and keeps 30 days; intent-only-contact keeps what matters to her (contact only when
 * she asks, no tracking, no sharing beyond processors, deletion when she leaves, at most 90 days)
 * and allows what serving her needs (service-delivery, order-fulfilment, support).
 */
export const NEWCOMER_TERMS = 'https://kith.invalid/terms/agreements/intent-only-contact';

export interface AgreementView {
  recordId: string;
  agreementId: string;
  title: string | null;
  proposedBy: 'person' | 'company';
  state: AgreementEntry['state'];
  /** accepted / countered-accepted, from the record. */
  outcome: SignedAgreement['record']['outcome'];
  /** Set when it waits for her answer. */
  awaitingHer: boolean;
  obligations: Obligations;
  /** Obligations in which it protects her less than what she proffered (counters) or has now (company proffers). */
  weaker: ObligationName[];
  reason: string | null;
  signed: SignedAgreement;
  createdAt: number;
  updatedAt: number;
}

export interface RosterView {
  rosters: { id: string; version: number; publisher: string; agreements: (Agreement & { short: string })[] }[];
  /** The agreements IEEE 7012-2025 publishes, and which roster agreement each is read as (null: not enforceable). */
  published: readonly PublishedAgreement[];
  default: string | null;
}

/** What connecting would do about her terms, found before anything is sent. */
export interface TermsPreview {
  /** Her default agreement (what connecting proffers), or null. */
  proffer: string | null;
  /** The company's published policy (/.well-known/kith-terms), or null if it publishes none. */
  published: { accept: string[]; preferred: string | null; rule: string } | null;
  /** What the company says it asks every new customer for right after connecting, if it says. */
  asks: { fields: string[]; claims: string[]; purpose: string; purposeCode: string | null; retention: string | null } | null;
  predicted: 'accepted' | 'countered' | 'rejected' | 'none' | 'unknown';
  alternative: string | null;
  /** Obligations in which the predicted counter protects her less than her proffer. */
  weaker: ObligationName[];
}

const publishedTermsSchema = z.object({
  rosters: z.array(z.object({ id: z.string(), version: z.number() })).max(100),
  accept: z.array(z.string().max(2000)).max(100),
  preferred: z.string().max(2000).nullable(),
  rule: z.string().max(500),
  asksOnConnect: z
    .object({
      fields: z.array(z.string().max(64)).max(50),
      claims: z.array(z.string().max(64)).max(50),
      purpose: z.string().max(500),
      purposeCode: z.string().max(100).nullable(),
      retention: z.string().max(100).nullable(),
    })
    .nullable()
    .default(null),
});

/**
 * The company's /.well-known/myterms.json as a published policy: it accepts the roster agreements
 * its published agreements are read as, and counters with none. Undefined when it has none or it
 * is malformed (terms.myterms_invalid): the preview then predicts nothing rather than guess.
 */
async function fromMyTerms(endpoint: string, fetchImpl: typeof fetch, set: RosterSet): Promise<z.infer<typeof publishedTermsSchema> | undefined> {
  const response = await fetchImpl(new URL('/.well-known/myterms.json', endpoint), { signal: AbortSignal.timeout(3_000), redirect: 'error' });
  if (!response.ok) return undefined;
  let document: MyTermsDocument;
  try {
    document = parseMyTermsDocument(await response.json());
  } catch {
    return undefined;
  }
  const accept = acceptedFromMyTerms(document);
  const held = accept.map((id) => set.agreement(id).roster);
  return {
    rosters: [...new Map(held.map((r) => [`${r.id}#${r.version}`, { id: r.id, version: r.version }])).values()],
    accept,
    preferred: null,
    rule: 'accept the listed agreements; reject any other (from its /.well-known/myterms.json)',
    asksOnConnect: null,
  };
}

export interface TermsFeature {
  /**
   * Predicts the company's answer to her default terms from its published policy at
   * `<endpoint origin>/.well-known/kith-terms`; sends nothing to the company.
   */
  preview(endpoint: string | undefined, fetchImpl?: typeof fetch): Promise<TermsPreview>;
  roster(): Promise<RosterView>;
  /** Her default terms, proffered on every new connection; null clears it. @throws TermsError terms.unknown_agreement */
  setDefault(agreement: string | null): Promise<string | null>;
  defaultTerms(): string | null;
  /** A new proffer to one company (a change of terms); resolves with the outcome recorded. */
  proffer(reference: string, agreement: string): Promise<AgreementView[]>;
  history(reference: string): AgreementView[];
  /** Accepts the counter or company proffer waiting for her. */
  accept(reference: string): Promise<AgreementView[]>;
  /** Declines the counter, or rejects the company proffer, waiting for her. */
  reject(reference: string, reason?: string): Promise<AgreementView[]>;

  // Used by connect and the inbound path.
  /** Her signed proffer of her default terms for a new connection, or undefined if she set none. */
  connectProffer(identity: LocalIdentity, companyDid: string): Promise<SignedAgreement | undefined>;
  /** Her signed proffer of `agreement` (a roster reference) to a company a relationship is being opened with. @throws TermsError terms.unknown_agreement */
  openingProffer(identity: LocalIdentity, companyDid: string, agreement: string): Promise<SignedAgreement>;
  /** Checks the company's answer to the proffer that opened a relationship (connect response, or the first answer to an anonymous intent cast), before anything is stored. */
  checkConnectAnswer(mine: SignedAgreement, answer: unknown): Promise<CheckedResponse>;
  /** Inside the connect transaction: her proffer and the company's answer, as records. */
  recordAnswer(relationshipId: string, mine: SignedAgreement, checked: CheckedResponse): void;
  /** After a negotiation: applies her rule to anything waiting for her (may answer the company). */
  settle(relationship: RelationshipRecord): Promise<void>;
  /**
   * True while her answer to, or proffer of, terms with this company waits for the company's reply:
   * a request it pushes meanwhile is not judged yet (terms.settling, a 503 it retries), so it is
   * judged by the terms the reply settles, not by the ones they replace.
   */
  settling(relationshipId: string): boolean;
  /** Checks a company proffer that arrived (push or pickup), before the inbound transaction. */
  checkCompanyProffer(received: ReceivedMessage<TermsProfferBody>): Promise<CheckedRecord | undefined>;
  /** Checks the company's answer to her proffer `mine`, before anything is stored. @throws TermsError */
  checkResponse(body: TermsResponseBody, mine: SignedAgreement): Promise<CheckedResponse>;
}


export interface TermsFeatureOptions {
  rosters(): Promise<RosterSet>;
  /**
   * Fetches what the company queued for her (message pickup). Called once her answer to a company
   * proposal is recorded: a request the company held back until then is judged by the new terms.
   */
  pickup(relationship: RelationshipRecord): Promise<unknown>;
}

export function createTermsFeature(core: AgentCore, options: TermsFeatureOptions): TermsFeature {
  const { vault, clock, resolver, logger, events } = core;
  /** Relationships with a terms exchange in flight, and how many (her answer and a proffer may overlap). */
  const inFlight = new Map<string, number>();

  async function whileSettling<T>(relationshipId: string, exchange: () => Promise<T>): Promise<T> {
    inFlight.set(relationshipId, (inFlight.get(relationshipId) ?? 0) + 1);
    try {
      return await exchange();
    } finally {
      const left = (inFlight.get(relationshipId) ?? 1) - 1;
      if (left === 0) inFlight.delete(relationshipId);
      else inFlight.set(relationshipId, left);
    }
  }

  /** What she compares a company's proposal with: the proffer it counters, else her terms now, else her default. */
  function baselineFor(entry: AgreementEntry): Obligations | null {
    const thread = vault.agreements.byThread(entry.relationshipId, entry.threadId);
    const hers = thread.find((e) => e.proposedBy === 'person');
    if (hers && entry.id !== hers.id) return hers.obligations;
    const current = vault.agreements.current(entry.relationshipId);
    if (current) return current.obligations;
    const chosen = feature.defaultTerms();
    return chosen !== null && loaded ? (safeAgreement(loaded, chosen)?.agreement.obligations ?? null) : null;
  }

  function awaitingHer(entry: AgreementEntry): boolean {
    return entry.proposedBy === 'company' && entry.state === 'proffered';
  }

  function toView(entry: AgreementEntry): AgreementView {
    const { obligations } = entry;
    const baseline = awaitingHer(entry) ? baselineFor(entry) : null;
    return {
      recordId: entry.id,
      agreementId: entry.agreementId,
      title: (loaded && safeAgreement(loaded, entry.agreementId)?.agreement.title) ?? null,
      proposedBy: entry.proposedBy,
      state: entry.state,
      outcome: entry.signed.record.outcome,
      awaitingHer: awaitingHer(entry),
      obligations,
      weaker: baseline ? isAtLeastAsProtective(obligations, baseline).weaker : [],
      reason: entry.reason,
      signed: entry.signed,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
    };
  }

  /** The rosters once loaded: views and her rule are synchronous, and every entry point awaits rosters() first. */
  let loaded: RosterSet | undefined;
  /** One load at a time; a failed load is tried again on the next call. */
  let loading: Promise<RosterSet> | undefined;
  async function rosters(): Promise<RosterSet> {
    if (loaded) return loaded;
    loading ??= options.rosters();
    try {
      loaded = await loading;
    } finally {
      loading = undefined;
    }
    return loaded;
  }

  /** The rosters, where rosters() was awaited before: the synchronous writers inside a vault transaction. */
  function heldRosters(): RosterSet {
    if (!loaded) throw new KithError('internal', 'The rosters were not loaded before an answer was recorded');
    return loaded;
  }

  function safeAgreement(set: RosterSet, reference: string): { roster: Roster; agreement: Agreement } | undefined {
    try {
      return set.agreement(reference);
    } catch {
      return undefined;
    }
  }

  function views(relationshipId: string): AgreementView[] {
    return vault.agreements.list(relationshipId).map(toView);
  }

  function signedProffer(chosen: { roster: Roster; agreement: Agreement }, identity: LocalIdentity, companyDid: string, supersedes: string | null): SignedAgreement {
    const record = buildAgreementRecord({
      roster: chosen.roster,
      agreementId: chosen.agreement.id,
      proffered: chosen.agreement.id,
      person: identity.did,
      company: companyDid,
      agreedAt: clock.now(),
      supersedes,
    });
    return signAgreement(record, signingKeyOf(identity));
  }

  /** Writes her proffer and what the company answered (inside the caller's transaction). */
  function recordAnswer(relationshipId: string, mine: SignedAgreement, checked: CheckedResponse): void {
    const proffered = mine.record;
    const base = { relationshipId, threadId: proffered.id, reason: null };
    if (checked.decision === 'accepted') {
      vault.agreements.supersedeCurrent(relationshipId);
      vault.agreements.insert({ ...base, id: proffered.id, proposedBy: 'person', agreementId: proffered.agreementId, state: 'agreed', signed: checked.signed, obligations: checked.agreement.obligations });
    } else if (checked.decision === 'rejected') {
      // Her own proffer: an agreement of a roster she holds (loaded before any answer is checked).
      const obligations = findAgreement(heldRosters().get(proffered.rosterId, proffered.rosterVersion), proffered.agreementId).obligations;
      vault.agreements.insert({ ...base, id: proffered.id, proposedBy: 'person', agreementId: proffered.agreementId, state: 'rejected', signed: mine, obligations, reason: checked.reason });
    } else {
      vault.agreements.insert({ ...base, id: proffered.id, proposedBy: 'person', agreementId: proffered.agreementId, state: 'countered', signed: mine, obligations: checked.proffered.obligations });
      vault.agreements.insert({ ...base, id: checked.signed.record.id, proposedBy: 'company', agreementId: checked.agreement.id, state: 'proffered', signed: checked.signed, obligations: checked.agreement.obligations });
    }
  }

  function pending(relationship: RelationshipRecord): AgreementEntry {
    const waiting = vault.agreements.list(relationship.id).filter(awaitingHer);
    const entry = waiting.at(-1);
    if (!entry) throw termsError('terms.record_mismatch', 'Nothing about terms waits for your answer here', { details: { members: ['state'] } });
    return entry;
  }

  /**
   * Answers the company proposal waiting for her: a counter with accept/decline, a company proffer
   * with a response. The company's ack is recorded in the transaction that records the reply.
   */
  async function answer(relationship: RelationshipRecord, entry: AgreementEntry, yes: boolean, reason?: string): Promise<void> {
    core.requireLive(relationship);
    const theirs = entry.signed;
    const isCounter = theirs.record.outcome === 'countered-accepted';
    const both = yes ? countersign(theirs, signingKeyOf(core.identityOf(relationship))) : undefined;
    const message = isCounter
      ? yes
        ? outgoing(Terms.accept, { record_id: entry.id, agreement: both as unknown as Record<string, unknown> })
        : outgoing(Terms.decline, { record_id: entry.id, ...(reason ? { reason } : {}) })
      : outgoing(Terms.response, { record_id: entry.id, decision: yes ? 'accepted' : 'rejected', ...(both ? { agreement: both as unknown as Record<string, unknown> } : {}), ...(reason && !yes ? { reason } : {}) });
    const notAcknowledged = { code: 'terms.record_mismatch' as const, message: 'The company did not acknowledge the answer; try again' };
    // The ack's handler (personal/handlers/terms.ts) records her answer with the company's ack.
    await whileSettling(relationship.id, () => core.exchange(relationship, message, { returnRoute: true, thid: entry.threadId, expects: [Terms.ack], unexpectedReply: notAcknowledged }));
    if (vault.agreements.get(entry.id)?.state === 'proffered') throw termsError(notAcknowledged.code, notAcknowledged.message, { details: { members: ['ack'] } });
    logger.info('terms_answered', { relationship: relationship.id, state: yes ? 'agreed' : 'declined' });
    await options.pickup(relationship).catch((error: unknown) => logger.info('pickup_skipped', { relationship: relationship.id, code: error instanceof KithError ? error.code : 'internal' }));
  }

  const feature: TermsFeature = {
    async preview(endpoint, fetchImpl = fetch) {
      const proffer = feature.defaultTerms();
      const none: TermsPreview = { proffer, published: null, asks: null, predicted: proffer === null ? 'none' : 'unknown', alternative: null, weaker: [] };
      if (endpoint === undefined || !URL.canParse(endpoint)) return none;
      let published: z.infer<typeof publishedTermsSchema>;
      try {
        const response = await fetchImpl(new URL('/.well-known/kith-terms', endpoint), { signal: AbortSignal.timeout(3_000), redirect: 'error' });
        const parsed = publishedTermsSchema.safeParse(response.ok ? await response.json() : undefined);
        if (parsed.success) published = parsed.data;
        else if (response.status === 404) {
          // No Kith policy: a company that publishes only the public MyTerms discovery document
          // (decision 0018) is read by it, against the bundled roster, where its agreements map.
          const fallback = await fromMyTerms(endpoint, fetchImpl, await rosters());
          if (fallback === undefined) return none;
          published = fallback;
        } else return none;
      } catch {
        return none;
      }
      const shown = { accept: published.accept, preferred: published.preferred, rule: published.rule };
      const asks = published.asksOnConnect;
      if (proffer === null) return { ...none, published: shown, asks };
      const set = await rosters();
      const mine = safeAgreement(set, proffer);
      if (!mine || !published.rosters.some((r) => r.id === mine.roster.id && r.version === mine.roster.version)) return { ...none, published: shown, asks };
      const decision = decideOnProffer({ accept: published.accept, preferred: published.preferred }, mine);
      if (decision.decision !== 'countered') return { proffer, published: shown, asks, predicted: decision.decision, alternative: null, weaker: [] };
      const { weaker } = isAtLeastAsProtective(decision.alternative.obligations, mine.agreement.obligations);
      return { proffer, published: shown, asks, predicted: 'countered', alternative: decision.alternative.id, weaker };
    },

    async roster() {
      const set = await rosters();
      return {
        rosters: set.list().map((r) => ({ id: r.id, version: r.version, publisher: r.publisher, agreements: r.agreements.map((a) => ({ ...a, short: agreementShortName(a.id) })) })),
        published: PUBLISHED_AGREEMENTS,
        default: feature.defaultTerms(),
      };
    },

    defaultTerms() {
      const value = vault.settings.get(DEFAULT_TERMS_SETTING);
      return typeof value === 'string' ? value : null;
    },

    async setDefault(reference) {
      const set = await rosters();
      if (reference === null) {
        vault.settings.delete(DEFAULT_TERMS_SETTING);
        return null;
      }
      const { agreement } = set.agreement(reference);
      vault.settings.set(DEFAULT_TERMS_SETTING, agreement.id);
      return agreement.id;
    },

    async proffer(reference, agreementReference) {
      const relationship = core.find(reference);
      core.requireLive(relationship);
      const set = await rosters();
      const chosen = set.agreement(agreementReference);
      const identity = core.identityOf(relationship);
      const mine = signedProffer(chosen, identity, relationship.theirDid, vault.agreements.current(relationship.id)?.id ?? null);
      const notAnswered = { code: 'terms.record_mismatch' as const, message: 'The company did not answer the proffer' };
      // The response's handler (personal/handlers/terms.ts) checks the answer and records both.
      const reply = await whileSettling(relationship.id, () =>
        core.exchange(relationship, outgoing(Terms.proffer, { agreement: mine as unknown as Record<string, unknown> }), { returnRoute: true, expects: [Terms.response], unexpectedReply: notAnswered }),
      );
      if (!reply) throw termsError(notAnswered.code, notAnswered.message, { details: { members: ['type'] } });
      await feature.settle(relationship);
      return views(relationship.id);
    },

    history(reference) {
      return views(core.find(reference).id);
    },

    settling(relationshipId) {
      return inFlight.has(relationshipId);
    },

    async accept(reference) {
      const relationship = core.find(reference);
      await rosters();
      await answer(relationship, pending(relationship), true);
      return views(relationship.id);
    },

    async reject(reference, reason) {
      const relationship = core.find(reference);
      await rosters();
      await answer(relationship, pending(relationship), false, reason);
      return views(relationship.id);
    },

    async connectProffer(identity, companyDid) {
      const chosen = feature.defaultTerms();
      if (chosen === null) return undefined;
      const set = await rosters();
      return signedProffer(set.agreement(chosen), identity, companyDid, null);
    },

    async openingProffer(identity, companyDid, agreement) {
      const set = await rosters();
      return signedProffer(set.agreement(agreement), identity, companyDid, null);
    },

    async checkConnectAnswer(mine, answer) {
      const set = await rosters();
      // A company that does not speak terms says nothing: her proffer stands unanswered, as rejected.
      if (answer === undefined) return { decision: 'rejected', reason: 'The company did not answer the proffer', accepts: [] };
      return checkResponse(answer as TermsResponseBody, mine, { rosters: set, resolver });
    },

    recordAnswer,

    async settle(relationship) {
      await rosters();
      for (const entry of vault.agreements.list(relationship.id).filter(awaitingHer)) {
        const baseline = baselineFor(entry);
        const verdict = baseline ? isAtLeastAsProtective(entry.obligations, baseline) : undefined;
        if (verdict?.ok) {
          try {
            await answer(relationship, entry, true);
          } catch (error) {
            logger.warn('terms_auto_accept_failed', { relationship: relationship.id, code: error instanceof TermsError ? error.code : 'error' });
          }
        } else {
          logger.info('terms_decision_needed', { relationship: relationship.id, weaker: verdict?.weaker.length ?? -1 });
          events.emit({ type: 'terms.updated', relationshipId: relationship.id, recordId: entry.id, state: 'proffered', decide: true });
        }
      }
    },

    async checkCompanyProffer(received) {
      const relationship = vault.relationships.findByMyDid(received.recipientDid);
      // Not from the company of this pairwise DID: the inbound transaction refuses it (relationship.unknown).
      if (!relationship || relationship.theirDid !== received.senderDid) return undefined;
      return checkProffer(received.message.body.agreement, {
        rosters: await rosters(),
        resolver,
        parties: { person: relationship.myDid, company: relationship.theirDid },
        proposer: 'company',
      });
    },

    checkResponse: async (body, mine) => checkResponse(body, mine, { rosters: await rosters(), resolver }),
  };
  return feature;
}

/** Inside the inbound transaction: a company proffer she received, waiting for her rule. */
export function recordCompanyProffer(vault: Vault, relationship: RelationshipRecord, checked: CheckedRecord): AgreementEntry {
  const existing = vault.agreements.get(checked.record.id);
  if (existing) return existing;
  const current = vault.agreements.current(relationship.id);
  if (checked.record.supersedes !== (current?.id ?? null)) {
    throw termsError('terms.record_mismatch', 'The proffer does not replace the agreement in force', { details: { members: ['supersedes'] } });
  }
  return vault.agreements.insert({
    id: checked.record.id,
    relationshipId: relationship.id,
    proposedBy: 'company',
    agreementId: checked.agreement.id,
    state: 'proffered',
    threadId: checked.record.id,
    signed: checked.signed,
    obligations: checked.agreement.obligations,
    reason: null,
  });
}

import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { ApiError, RelationshipError, TermsError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { outgoing } from '../protocol/buildMessage.js';
import { BasicMessage, Disclose, Terms } from '../protocol/families/index.js';
import { disclosureAskSchema, type CompanyPolicy, type DisclosureAsk } from './config.js';
import type { FollowUps } from './handlers/types.js';
import type { CompanyMessaging } from './messaging.js';
import { checkAskWithinTerms, companyProffer, type CompanyTermsDeps } from './terms.js';
import type { CompanyRelationship, CompanyStore, DisclosureRequest } from './store/types.js';

export interface SendResult {
  messageId: string;
  delivered: boolean;
}

export interface DisclosureRequestResult extends SendResult {
  request: DisclosureRequest;
}

export interface TermsProposalResult extends SendResult {
  recordId: string;
}

/** What the company's people (admin API, CLI) do on a relationship, and the follow-ups its handlers start. */
export interface RelationshipCommands extends FollowUps {
  /** Resolves a relationship by id, id prefix or customer number. @throws RelationshipError `relationship.unknown` */
  find(reference: string): Promise<CompanyRelationship>;
  /** Sends a basic message; it waits in the outbox until her agent takes it (push or pickup). */
  sendMessage(relationshipId: string, content: string): Promise<SendResult>;
  /**
   * Asks her for fields and/or credential claims, with a purpose, retention and legal basis; the
   * request waits in the outbox like any message.
   * @throws ApiError `api.bad_request` for an invalid ask; TermsError `terms.outside_terms`; RelationshipError for unknown/cut-off
   */
  requestDisclosure(relationshipId: string, ask: DisclosureAsk): Promise<DisclosureRequestResult>;
  /**
   * The company proposes a change of terms: a proffer signed by it, queued like any message.
   * @throws TermsError terms.unknown_agreement; RelationshipError for unknown/cut-off
   */
  proposeTerms(relationshipId: string, agreement: string): Promise<TermsProposalResult>;
}

export interface RelationshipCommandsOptions {
  store: CompanyStore;
  messaging: CompanyMessaging;
  policy: CompanyPolicy;
  terms: CompanyTermsDeps;
  clock: Clock;
  logger: Logger;
}

export function createRelationshipCommands(options: RelationshipCommandsOptions): RelationshipCommands {
  const { store, messaging, policy, clock, logger } = options;

  /** @throws RelationshipError `relationship.unknown` | `relationship.cut_off` */
  async function live(relationshipId: string): Promise<CompanyRelationship> {
    const relationship = await store.getRelationship(relationshipId);
    if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
    if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
    return relationship;
  }

  /** Muted: held in the outbox without notice until she unmutes or picks up. */
  async function pushIfActive(relationship: CompanyRelationship): Promise<boolean> {
    return relationship.state === 'active' ? (await messaging.deliverQueued(relationship)) > 0 : false;
  }

  async function queueBasicMessage(relationship: CompanyRelationship, content: string): Promise<string> {
    const body = { content };
    const packed = await messaging.pack(relationship.theirDid, outgoing(BasicMessage.message, body));
    await store.transaction(async (tx) => {
      await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: packed.id, direction: 'out', type: BasicMessage.message.type, body, createdAt: clock.now() });
      await messaging.enqueue(relationship, packed, tx);
    });
    return packed.id;
  }

  async function queueDisclosureRequest(relationship: CompanyRelationship, input: DisclosureAsk, pushDelayMs = 0): Promise<DisclosureRequestResult> {
    const parsed = disclosureAskSchema.safeParse(input);
    if (!parsed.success) throw new ApiError('api.bad_request', `Invalid disclosure request: ${describeZodIssues(parsed.error).join('; ')}`);
    const ask = parsed.data;
    // The company refuses to ask outside what it agreed to (her agent would refuse it anyway).
    const terms = await store.currentTermsAgreement(relationship.id);
    checkAskWithinTerms(terms, { purpose: ask.purposeCode ?? '', retention: ask.retention ?? null });
    const now = clock.now();
    const requestId = newId();
    const body = {
      request_id: requestId,
      nonce: randomBytes(32).toString('base64url'),
      fields: ask.fields,
      credentials: ask.credentials,
      purpose: ask.purpose,
      purpose_code: ask.purposeCode ?? null,
      retention: ask.retention ?? null,
      legal_basis: ask.legalBasis,
      terms_ref: ask.termsRef ?? terms?.agreementId ?? null,
    };
    const packed = await messaging.pack(relationship.theirDid, outgoing(Disclose.request, body));
    const request: DisclosureRequest = {
      id: requestId,
      relationshipId: relationship.id,
      messageId: packed.id,
      nonce: body.nonce,
      fields: body.fields,
      credentials: body.credentials,
      purpose: body.purpose,
      retention: body.retention,
      legalBasis: body.legal_basis,
      termsRef: body.terms_ref,
      state: 'pending',
      createdAt: now,
      updatedAt: now,
    };
    await store.transaction(async (tx) => {
      await tx.createDisclosureRequest(request);
      await messaging.enqueue(relationship, packed, tx, pushDelayMs);
    });
    logger.info('disclosure_requested', { relationship: relationship.id, fields: body.fields.length, credentials: body.credentials.length });
    return { request, messageId: packed.id, delivered: false };
  }

  return {
    async find(reference) {
      const exact = await store.getRelationship(reference);
      if (exact) return exact;
      const all = await store.listRelationships();
      const matches = all.filter((r) => r.id.startsWith(reference) || r.customerRef === reference);
      if (matches.length !== 1 || !matches[0]) {
        throw new RelationshipError('relationship.unknown', matches.length > 1 ? 'Ambiguous relationship reference' : 'No such relationship');
      }
      return matches[0];
    },

    async sendMessage(relationshipId, content) {
      const relationship = await live(relationshipId);
      const messageId = await queueBasicMessage(relationship, content);
      return { messageId, delivered: await pushIfActive(relationship) };
    },

    async requestDisclosure(relationshipId, ask) {
      const relationship = await live(relationshipId);
      const result = await queueDisclosureRequest(relationship, ask);
      return { ...result, delivered: await pushIfActive(relationship) };
    },

    async proposeTerms(relationshipId, reference) {
      const relationship = await live(relationshipId);
      const { rosters } = await options.terms.setup();
      const chosen = rosters.agreement(reference);
      const current = await store.currentTermsAgreement(relationship.id);
      const signed = companyProffer({ checked: chosen, relationship, current, deps: options.terms });
      const packed = await messaging.pack(relationship.theirDid, outgoing(Terms.proffer, { agreement: signed as unknown as Record<string, unknown> }));
      const now = clock.now();
      await store.transaction(async (tx) => {
        await tx.createTermsAgreement({
          id: signed.record.id,
          relationshipId: relationship.id,
          proposedBy: 'company',
          agreementId: chosen.agreement.id,
          state: 'proffered',
          threadId: signed.record.id,
          signed,
          obligations: chosen.agreement.obligations,
          reason: null,
          createdAt: now,
          updatedAt: now,
        });
        await messaging.enqueue(relationship, packed, tx);
      });
      logger.info('terms_proposed', { relationship: relationship.id });
      return { recordId: signed.record.id, messageId: packed.id, delivered: await pushIfActive(relationship) };
    },

    async welcome(relationship) {
      // Queued, not pushed: her agent is still waiting for the connect response on this request.
      if (policy.welcomeMessage) await queueBasicMessage(relationship, policy.welcomeMessage);
    },

    /**
     * The policy's first request, once the terms are settled: not while our counter waits for her
     * (it goes when she answers it), never twice, and not if it falls outside what she agreed to.
     * When her answer settled the terms, our ack may not have reached her yet: the request is not
     * pushed for a while (her agent fetches it once it has recorded the agreement), so she never
     * judges it by the terms it replaces.
     */
    async requestOnConnect(relationship, pushDelayMs = 0) {
      const ask = policy.requestOnConnect;
      if (!ask) return;
      const history = await store.listTermsAgreements(relationship.id);
      if (history.some((row) => row.state === 'proffered')) return;
      if ((await store.listDisclosureRequests(relationship.id)).length > 0) return;
      try {
        await queueDisclosureRequest(relationship, ask, pushDelayMs);
      } catch (error) {
        if (!(error instanceof TermsError)) throw error;
        logger.warn('request_on_connect_outside_terms', { relationship: relationship.id, code: error.code });
      }
    },

    deliverQueued: (relationship) => messaging.deliverQueued(relationship),
  };
}

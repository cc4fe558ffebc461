import { createHash, randomInt } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.js';
import { ApiError, RelationshipError, TermsError } from '../core/errors.js';
import { describeZodIssues } from '../core/json.js';
import { newId } from '../core/ids.js';
import { silentLogger, type Logger } from '../core/log.js';
import { agreementKeyOf, signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { resolvePeer } from '../protocol/agent/peer.js';
import { postEnvelope } from '../protocol/agent/transport.js';
import { buildMessage } from '../protocol/buildMessage.js';
import { createDidResolver } from '../protocol/did/resolver.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { EnvelopeEngine } from '../protocol/envelope/engine.js';
import { fastEngine } from '../protocol/envelope/fastEngine.js';
import { packMessage } from '../protocol/envelope/pack.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_BYTES, receiveMessage, type ReceiveContext } from '../protocol/envelope/receive.js';
import { BasicMessage, Connect, Disclose, Relationship, Terms, createMessageRegistry } from '../protocol/families/index.js';
import type { TermsPolicy } from '../protocol/terms/negotiate.js';
import { loadRosterSet, type RosterSet } from '../protocol/terms/rosterSet.js';
import { checkAskWithinTerms, companyProffer, verifyTerms, type CompanyTermsDeps } from './terms.js';
import { KITH_CONNECT_GOAL_CODE, OOB_INVITATION_TYPE, invitationUrl, type Invitation } from '../protocol/families/outOfBand.js';
import { randomBytes } from 'node:crypto';
import { disclosureAskSchema, type DisclosureAsk, type CompanyPolicy } from './config.js';
import { createConnectors, type Connector } from './connectors/index.js';
import { ConnectorDispatcher } from './connectors/dispatcher.js';
import { verifyDisclosure, type DisclosureDeps } from './disclosure.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../core/retry.js';
import { OutboxDelivery } from './delivery.js';
import { applyInbound, type Reply } from './inbound.js';
import type { ConnectorEvent, ConsentRecordRow, DisclosureRequest, HeldField, StoredMessage, TermsAgreementRow, CompanyRelationship, CompanyStore } from './store/types.js';

export interface CompanyAgentOptions {
  name: string;
  /** Base URL of this agent; the invitation points here and the DIDComm endpoint is `<publicUrl>/didcomm`. */
  publicUrl: string;
  store: CompanyStore;
  identity: LocalIdentity;
  policy: CompanyPolicy;
  clock?: Clock;
  resolver?: DidResolver;
  engine?: EnvelopeEngine;
  maxMessageBytes?: number;
  clockSkewMs?: number;
  logger?: Logger;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** Company systems told about disclosures and updates; default: the policy's `connectors`. */
  connectors?: Connector[];
  /** The terms rosters it knows; default the bundled roster plus the policy's `terms.rosterFiles`. */
  rosters?: RosterSet;
}

/** What the company publishes about its terms at /.well-known/kith-terms (docs/protocol/terms.md). */
export interface PublishedTerms {
  rosters: { id: string; version: number; publisher: string }[];
  /** Agreement ids it accepts as proffered. */
  accept: string[];
  /** The alternative it counters with, or null: it rejects what it does not accept. */
  preferred: string | null;
  rule: string;
  /** What it asks every new customer for right after connecting (its policy's requestOnConnect), or null. */
  asksOnConnect: { fields: string[]; claims: string[]; purpose: string; purposeCode: string | null; retention: string | null } | null;
}

export interface TermsProposalResult extends SendResult {
  recordId: string;
}

export interface InboundResult {
  /** A packed reply for the same HTTP response (the sender asked with `return_route: all`). */
  reply: string | undefined;
}

export interface SendResult {
  messageId: string;
  delivered: boolean;
}

export interface DisclosureRequestResult extends SendResult {
  request: DisclosureRequest;
}

/** What the company holds about one relationship, and under which consent: the call-center view. */
export interface Holdings {
  relationship: CompanyRelationship;
  fields: HeldField[];
  profileVersion: number;
  consentRecords: ConsentRecordRow[];
  requests: DisclosureRequest[];
}

/** The vendor agent: everything a company's side does, without HTTP (see http/app.ts for that). */
export interface CompanyAgent {
  readonly name: string;
  readonly did: string;
  readonly store: CompanyStore;
  invitation(): Invitation;
  invitationUrl(): string;
  /**
   * Receives one packed DIDComm message: the fail-closed pipeline, then its effect.
   * @throws KithError with the code of the first check that failed; nothing is written then.
   */
  receive(packed: Uint8Array | string): Promise<InboundResult>;
  /** Sends a basic message; it waits in the outbox until her agent takes it (push or pickup). */
  sendMessage(relationshipId: string, content: string): Promise<SendResult>;
  relationships(): Promise<CompanyRelationship[]>;
  messages(relationshipId: string): Promise<StoredMessage[]>;
  /** Resolves a relationship by id, id prefix or customer number. @throws RelationshipError `relationship.unknown` */
  findRelationship(reference: string): Promise<CompanyRelationship>;
  deliverDue(): Promise<number>;
  /**
   * Asks her for fields and/or credential claims, with a purpose, retention and legal basis. The
   * request waits in the outbox like any message.
   * @throws ConfigError-free: invalid asks are `api.bad_request`; RelationshipError for unknown/cut-off.
   */
  requestDisclosure(relationshipId: string, ask: DisclosureAsk): Promise<DisclosureRequestResult>;
  holdings(relationshipId: string): Promise<Holdings>;
  /** Hands due connector events to the configured connectors; returns how many were dispatched. */
  dispatchEvents(): Promise<number>;
  /** The connector events (dispatched or not), all or one relationship's, oldest first. */
  events(relationshipId?: string): Promise<ConnectorEvent[]>;
  /** Its terms policy, agreement names resolved. @throws TermsError if the policy names an agreement no roster has */
  publishedTerms(): Promise<PublishedTerms>;
  /** Every terms record of the relationship (proffers, counters, the agreed one, superseded ones), oldest first. */
  termsHistory(relationshipId: string): Promise<TermsAgreementRow[]>;
  /**
   * The company proposes a change of terms: a proffer signed by it, queued like any message.
   * @throws TermsError terms.unknown_agreement; RelationshipError for unknown/cut-off
   */
  proposeTerms(relationshipId: string, agreement: string): Promise<TermsProposalResult>;
}

function askOnConnect(policy: CompanyPolicy): PublishedTerms['asksOnConnect'] {
  // The policy was parsed with its schema when loaded: defaults are filled in.
  const ask = policy.requestOnConnect;
  if (!ask) return null;
  return { fields: ask.fields, claims: ask.credentials.flatMap((c) => c.claims), purpose: ask.purpose, purposeCode: ask.purposeCode ?? null, retention: ask.retention ?? null };
}

/** How long a request queued by her answer to our counter waits before it is pushed (she picks it up at once). */
const AFTER_TERMS_PUSH_DELAY_MS = 5_000;

/** A UUID-shaped id derived from the vendor's DID. */
function invitationIdFor(did: string): string {
  const hex = createHash('sha256').update(did).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function createCompanyAgent(options: CompanyAgentOptions): CompanyAgent {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const engine = options.engine ?? fastEngine;
  const resolver = options.resolver ?? createDidResolver();
  const { store, identity } = options;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const delivery = new OutboxDelivery(store, resolver, clock, logger, retry, options.fetch);
  const signingKey = signingKeyOf(identity);
  const agreementKey = agreementKeyOf(identity);
  const registry = createMessageRegistry();
  const connectors = options.connectors ?? createConnectors(options.policy.connectors, { logger });
  const dispatcher = new ConnectorDispatcher(store, connectors, clock, logger, retry);
  const disclosureDeps: DisclosureDeps = {
    store,
    resolver,
    companyDid: identity.did,
    companyName: options.name,
    trustedIssuers: options.policy.trustedIssuers,
    now: () => clock.now(),
  };

  let termsSetup: Promise<{ rosters: RosterSet; policy: TermsPolicy }> | undefined;
  async function loadTermsSetup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }> {
    const configured = options.policy.terms;
    const rosters =
      options.rosters ??
      (await loadRosterSet({ files: configured.rosterFiles, resolver, ...(configured.rosterPublishers ? { publishers: configured.rosterPublishers } : {}) }));
    const idOf = (reference: string): string => rosters.agreement(reference).agreement.id;
    return { rosters, policy: { accept: configured.accept.map(idOf), preferred: configured.preferred === null ? null : idOf(configured.preferred) } };
  }
  const termsDeps: CompanyTermsDeps = {
    setup: () => {
      termsSetup ??= loadTermsSetup().catch((error: unknown) => {
        termsSetup = undefined;
        throw error;
      });
      return termsSetup;
    },
    resolver,
    companyDid: identity.did,
    signer: signingKey,
    now: () => clock.now(),
  };

  const receiveContext: ReceiveContext = {
    maxBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    engine,
    resolver,
    registry,
    clock,
    clockSkewMs,
    findRecipientKey: (kid) => (kid === agreementKey.kid ? agreementKey : undefined),
    hasSeen: (id) => store.hasSeenMessage(id),
  };

  async function pack(to: string, reply: Reply, thid?: string): Promise<{ id: string; packed: string }> {
    const peer = await resolvePeer(resolver, to);
    const message = buildMessage(
      { type: reply.type, from: identity.did, to, body: reply.body, ...(thid ? { thid } : {}), ...(reply.attachments ? { attachments: reply.attachments } : {}) },
      clock,
    );
    const packed = await packMessage({ message, signer: signingKey, recipients: [peer.agreementKey], engine });
    return { id: message.id, packed };
  }

  async function enqueue(relationship: CompanyRelationship, messageId: string, packed: string, tx: CompanyStore = store, delayMs = 0): Promise<void> {
    const now = clock.now();
    await tx.enqueueOutbox({ id: newId(), relationshipId: relationship.id, messageId, packed, createdAt: now, nextAttemptAt: now + delayMs, attempts: 0 });
  }

  async function queueBasicMessage(relationship: CompanyRelationship, content: string): Promise<string> {
    const { id, packed } = await pack(relationship.theirDid, { type: BasicMessage.message.type, body: { content } });
    await store.transaction(async (tx) => {
      await tx.addMessage({ id: newId(), relationshipId: relationship.id, messageId: id, direction: 'out', type: BasicMessage.message.type, body: { content }, createdAt: clock.now() });
      await enqueue(relationship, id, packed, tx);
    });
    return id;
  }

  async function sendBasicMessage(relationship: CompanyRelationship, content: string): Promise<SendResult> {
    const id = await queueBasicMessage(relationship, content);
    // Muted: held in the outbox without notice until she unmutes or picks up.
    const delivered = relationship.state === 'active' ? (await deliverQueued(relationship)) > 0 : false;
    return { messageId: id, delivered };
  }

  /** The erasure receipt cannot wait in an outbox that was just erased: one direct attempt. */
  async function pushOnce(theirDid: string, packed: string): Promise<void> {
    const peer = await resolvePeer(resolver, theirDid);
    if (peer.endpoint) await postEnvelope(peer.endpoint, packed, options.fetch ? { fetch: options.fetch } : {}).catch(() => undefined);
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
    const { id, packed } = await pack(relationship.theirDid, { type: Disclose.request.type, body });
    const request: DisclosureRequest = {
      id: requestId,
      relationshipId: relationship.id,
      messageId: id,
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
      await enqueue(relationship, id, packed, tx, pushDelayMs);
    });
    logger.info('disclosure_requested', { relationship: relationship.id, fields: body.fields.length, credentials: body.credentials.length });
    return { request, messageId: id, delivered: false };
  }

  /**
   * The policy's first request, once the terms are settled: not while our counter waits for her
   * (it goes when she answers it), never twice, and not if it falls outside what she agreed to.
   * When her answer settled the terms, our ack may not have reached her yet: the request is not
   * pushed for a while (her agent fetches it once it has recorded the agreement), so she never
   * judges it by the terms it replaces.
   */
  async function requestOnConnect(relationship: CompanyRelationship, pushDelayMs = 0): Promise<void> {
    const ask = options.policy.requestOnConnect;
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
  }

  async function deliverQueued(relationship: CompanyRelationship): Promise<number> {
    let delivered = 0;
    for (const item of await store.pendingOutbox(relationship.id, 100)) if (await delivery.deliver(item)) delivered += 1;
    return delivered;
  }

  const agent: CompanyAgent = {
    name: options.name,
    did: identity.did,
    store,

    invitation() {
      return {
        type: OOB_INVITATION_TYPE,
        // Stable per vendor (the invitation is reusable) yet distinct between vendors.
        id: invitationIdFor(identity.did),
        from: identity.did,
        body: { goal_code: KITH_CONNECT_GOAL_CODE, goal: `Connect with ${options.name}`, accept: ['didcomm/v2'] },
      };
    },

    invitationUrl() {
      return invitationUrl(`${options.publicUrl.replace(/\/$/, '')}/invite`, agent.invitation());
    },

    async receive(packed) {
      const received = await receiveMessage(packed, receiveContext);
      // Presentations and terms are verified before the transaction: nothing is stored unless all holds.
      const verified = await verifyDisclosure(received, disclosureDeps);
      const terms = await verifyTerms(received, store, termsDeps);
      const outcome = await applyInbound(received, {
        disclosure: disclosureDeps,
        verified,
        terms,
        store,
        companyName: options.name,
        acceptConnections: options.policy.acceptConnections,
        clockSkewMs,
        now: () => clock.now(),
        newCustomerRef: () => `C-${randomInt(10_000_000, 99_999_999)}`,
      });
      logger.info('message_received', { type: received.message.type, relationship: outcome.relationship?.id });
      const thid = received.message.thid ?? received.message.id;
      let reply: string | undefined;
      if (outcome.reply) {
        const packedReply = await pack(received.senderDid, outcome.reply, thid);
        if (received.message.return_route === 'all') reply = packedReply.packed;
        else if (received.message.type === Relationship.terminate.type) await pushOnce(received.senderDid, packedReply.packed);
        else if (outcome.relationship) await enqueue(outcome.relationship, packedReply.id, packedReply.packed);
      }
      if (outcome.relationship && received.message.type === Connect.request.type && options.policy.welcomeMessage) {
        // Queued, not pushed: her agent is still waiting for the connect response on this request.
        await queueBasicMessage(outcome.relationship, options.policy.welcomeMessage);
      }
      const settlesTerms = received.message.type === Terms.accept.type || received.message.type === Terms.decline.type;
      if (outcome.relationship && received.message.type === Connect.request.type) await requestOnConnect(outcome.relationship);
      if (outcome.relationship && settlesTerms) await requestOnConnect(outcome.relationship, AFTER_TERMS_PUSH_DELAY_MS);
      if (outcome.flushOutbox && outcome.relationship) await deliverQueued({ ...outcome.relationship, state: 'active' });
      return { reply };
    },

    async sendMessage(relationshipId, content) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      return sendBasicMessage(relationship, content);
    },

    relationships: () => store.listRelationships(),
    messages: (relationshipId) => store.listMessages(relationshipId),

    async findRelationship(reference) {
      const exact = await store.getRelationship(reference);
      if (exact) return exact;
      const all = await store.listRelationships();
      const matches = all.filter((r) => r.id.startsWith(reference) || r.customerRef === reference);
      if (matches.length !== 1 || !matches[0]) {
        throw new RelationshipError('relationship.unknown', matches.length > 1 ? 'Ambiguous relationship reference' : 'No such relationship');
      }
      return matches[0];
    },

    deliverDue: () => delivery.deliverDue(),

    async requestDisclosure(relationshipId, ask) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      const result = await queueDisclosureRequest(relationship, ask);
      const delivered = relationship.state === 'active' ? (await deliverQueued(relationship)) > 0 : false;
      return { ...result, delivered };
    },

    async holdings(relationshipId) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      const [fields, profileVersion, consentRecords, requests] = await Promise.all([
        store.listHeldFields(relationshipId),
        store.getProfileVersion(relationshipId),
        store.listConsentRecords(relationshipId),
        store.listDisclosureRequests(relationshipId),
      ]);
      return { relationship, fields, profileVersion, consentRecords, requests };
    },

    async publishedTerms() {
      const { rosters, policy } = await termsDeps.setup();
      return {
        rosters: rosters.list().map((r) => ({ id: r.id, version: r.version, publisher: r.publisher })),
        accept: [...policy.accept],
        preferred: policy.preferred,
        rule: policy.preferred === null ? 'accept the listed agreements; reject any other' : 'accept the listed agreements; otherwise counter once with the preferred one',
        asksOnConnect: askOnConnect(options.policy),
      };
    },

    termsHistory: (relationshipId) => store.listTermsAgreements(relationshipId),

    async proposeTerms(relationshipId, reference) {
      const relationship = await store.getRelationship(relationshipId);
      if (!relationship) throw new RelationshipError('relationship.unknown', 'No such relationship');
      if (relationship.state === 'cut_off') throw new RelationshipError('relationship.cut_off', 'This relationship was cut off');
      const { rosters } = await termsDeps.setup();
      const chosen = rosters.agreement(reference);
      const current = await store.currentTermsAgreement(relationship.id);
      const signed = companyProffer({ checked: chosen, relationship, current, deps: termsDeps });
      const { id, packed } = await pack(relationship.theirDid, { type: Terms.proffer.type, body: { agreement: signed } });
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
        await enqueue(relationship, id, packed, tx);
      });
      logger.info('terms_proposed', { relationship: relationship.id });
      const delivered = relationship.state === 'active' ? (await deliverQueued(relationship)) > 0 : false;
      return { recordId: signed.record.id, messageId: id, delivered };
    },

    dispatchEvents: () => dispatcher.dispatchDue(),
    events: (relationshipId) => store.listEvents(relationshipId === undefined ? {} : { relationshipId }),
  };
  return agent;
}

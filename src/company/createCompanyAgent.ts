import { createHash, randomInt } from 'node:crypto';
import { ConnectorError, RelationshipError } from '../core/errors.js';
import { agentEnvironment, type AgentEnvironmentOptions } from '../protocol/agent/environment.js';
import { signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { createMessageRegistry } from '../protocol/families/index.js';
import type { CompanyMetrics } from './metrics.js';
import { signCompanyDescription, type SignedCompanyDescription } from '../protocol/intent/companyDescription.js';
import { KITH_CONNECT_GOAL_CODE, OOB_INVITATION_TYPE, invitationUrl, type Invitation } from '../protocol/families/outOfBand.js';
import type { RosterSet } from '../protocol/terms/rosterSet.js';
import type { CompanyPolicy, DisclosureAsk } from './config.js';
import { ConnectorDispatcher } from './connectors/dispatcher.js';
import { createConnectors, type Connector, type DispatchTarget } from './connectors/index.js';
import { createCompanyAccountIds, type CompanyAccountIds } from './accountIdentifiers.js';
import { createCompanyThings, type CompanyThings } from './things.js';
import { createCompanyServiceCases, type CompanyServiceCases } from './serviceCases.js';
import { auditEntry, createCallerVerifications, type CallerVerifications } from './callerVerification.js';
import { COMPANY_HANDLERS } from './handlers/index.js';
import type { CompanyContext } from './handlers/types.js';
import { createCompanyMessaging } from './messaging.js';
import { createIntentCommands, type IntentCommands } from './intents/intentCommands.js';
import { createRetentionSweep } from './retention.js';
import { createCompanyOffers } from './intents/offers.js';
import { createCompanyTermsPolicy, type PublishedTerms } from './termsPolicy.js';
import type { MyTermsDocument } from '../protocol/terms/published.js';
import { createRelationshipCommands, type DisclosureRequestResult, type SendResult, type TermsProposalResult } from './relationshipCommands.js';
import type { AuditEntry, ConnectorEvent, CreatedKey, DeadLetter, DeadLetterKey, KeysetPage, ConsentRecordRow, DisclosureRequest, HeldField, StoredMessage, TermsAgreementRow, CompanyRelationship, CompanyStore } from './store/types.js';

export type { DisclosureRequestResult, SendResult, TermsProposalResult } from './relationshipCommands.js';
export type { PublishedTerms } from './termsPolicy.js';

export interface CompanyAgentOptions extends AgentEnvironmentOptions {
  name: string;
  /** Base URL of this agent; the invitation points here and the DIDComm endpoint is `<publicUrl>/didcomm`. */
  publicUrl: string;
  store: CompanyStore;
  identity: LocalIdentity;
  policy: CompanyPolicy;
  /** Company systems told about disclosures and updates; default: the policy's `connectors`. */
  connectors?: (Connector | DispatchTarget)[];
  /** Where delivery latency is counted (the server's /metrics); none by default. */
  metrics?: Pick<CompanyMetrics, 'delivered'>;
  /** The terms rosters it knows; default the bundled roster plus the policy's `terms.rosterFiles`. */
  rosters?: RosterSet;
}

export interface InboundResult {
  /** A packed reply for the same HTTP response (the sender asked with `return_route: all`). */
  reply: string | undefined;
}

/** What the company holds about one relationship, and under which consent: the call-center view. */
export interface Holdings {
  relationship: CompanyRelationship;
  fields: HeldField[];
  profileVersion: number;
  consentRecords: ConsentRecordRow[];
  requests: DisclosureRequest[];
}

/** A configured connector and where its deliveries stand (the admin API's and the CLI's view). */
export interface ConnectorStatus {
  id: string;
  type: string;
  maxAttempts: number;
  /** Events it took. */
  delivered: number;
  /** Events it failed on and will try again. */
  retrying: number;
  /** Events it gave up on: its dead letters. */
  dead: number;
}

/** The company agent: everything a company's side does, without HTTP (see http/app.ts for that). */
export interface CompanyAgent {
  readonly name: string;
  readonly did: string;
  readonly store: CompanyStore;
  /** The intents it received, and its offers made by hand. */
  readonly intents: IntentCommands;
  /** Caller verifications: a challenge to her agent, her signed answer (docs/protocol/caller-verification.md). */
  readonly verifications: CallerVerifications;
  /** What it knows her by (customer number, policy numbers...), sent to her agent (docs/protocol/account.md). */
  readonly accountIds: CompanyAccountIds;
  /** Signed receipts it sends, registrations of things it makes, recalls (docs/protocol/thing.md). */
  readonly things: CompanyThings;
  /** Service cases she opened about her things, and its answers (docs/protocol/service.md). */
  readonly serviceCases: CompanyServiceCases;
  /** Writes one line of the audit log: `operator` looked at or acted on (`action`, a short machine word) a customer. */
  audit(operator: string, action: string, relationshipId: string | null): Promise<void>;
  /** The audit log, newest first. */
  auditLog(options?: { relationshipId?: string; limit?: number }): Promise<AuditEntry[]>;
  /**
   * Customers by customer number, relationship id or id prefix, or a value the company holds (an
   * email, a phone number: a held field equal to it, ASCII case aside); erased ones are never found.
   */
  searchCustomers(query: string): Promise<CompanyRelationship[]>;
  invitation(): Invitation;
  invitationUrl(): string;
  /**
   * Its signed description for her directory (`/.well-known/kith-company`): name, DID, the intent
   * categories it serves and the agreements it accepts; undefined when it serves no category.
   */
  description(): Promise<SignedCompanyDescription | undefined>;
  /**
   * Receives one packed DIDComm message: the fail-closed pipeline, then its effect.
   * @throws KithError with the code of the first check that failed; nothing is written then.
   */
  receive(packed: Uint8Array | string): Promise<InboundResult>;
  /** Sends a basic message; it waits in the outbox until her agent takes it (push or pickup). */
  sendMessage(relationshipId: string, content: string): Promise<SendResult>;
  /** Oldest first; a page of them with `page` (store/keyset.ts). */
  relationships(page?: KeysetPage<CreatedKey>): Promise<CompanyRelationship[]>;
  /** Oldest first; a page of them with `page` (store/keyset.ts). */
  messages(relationshipId: string, page?: KeysetPage<CreatedKey>): Promise<StoredMessage[]>;
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
  /** The connector events (dispatched or not), all or one relationship's, oldest first; a page of them with `page`. */
  events(relationshipId?: string, page?: KeysetPage<CreatedKey>): Promise<ConnectorEvent[]>;
  /** Expires the consent records whose retention has ended (deleting what was held under them); returns how many. */
  expireRetention(): Promise<number>;
  /** The configured connectors with how many events each delivered, is retrying and gave up on. */
  connectors(): Promise<ConnectorStatus[]>;
  /** Events a connector gave up on (of one connector, or all), most recent first. */
  deadLetters(options?: { connectorId?: string; limit?: number; after?: DeadLetterKey }): Promise<DeadLetter[]>;
  /**
   * Puts a dead letter back in line for its connector; the next dispatch tries it again.
   * @throws ConnectorError `connector.unknown` (no such configured connector), `connector.no_dead_letter`
   */
  replayDeadLetter(eventId: string, connectorId: string): Promise<void>;
  /** Its terms policy, agreement names resolved. @throws TermsError if the policy names an agreement no roster has */
  publishedTerms(): Promise<PublishedTerms>;
  /** The agreements IEEE 7012-2025 publishes that its policy accepts, as /.well-known/myterms.json. @throws TermsError as publishedTerms */
  publishedMyTerms(): Promise<MyTermsDocument>;
  /** Every terms record of the relationship (proffers, counters, the agreed one, superseded ones), oldest first. */
  termsHistory(relationshipId: string): Promise<TermsAgreementRow[]>;
  /**
   * The company proposes a change of terms: a proffer signed by it, queued like any message.
   * @throws TermsError terms.unknown_agreement; RelationshipError for unknown/cut-off
   */
  proposeTerms(relationshipId: string, agreement: string): Promise<TermsProposalResult>;
}

/** A UUID-shaped id derived from the company's DID. */
function invitationIdFor(did: string): string {
  const hex = createHash('sha256').update(did).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function createCompanyAgent(options: CompanyAgentOptions): CompanyAgent {
  const environment = agentEnvironment(options);
  const { clock, logger, resolver, retry } = environment;
  const { store, identity, policy } = options;
  const connectors = options.connectors ?? createConnectors(policy.connectors, { logger, clock });
  const dispatcher = new ConnectorDispatcher(store, connectors, clock, logger, retry);

  const terms = createCompanyTermsPolicy(policy, resolver, options.rosters, () => clock.now());
  const setup = () => terms.setup();

  const { metrics } = options;
  const messaging = createCompanyMessaging({
    ...environment,
    store,
    identity,
    registry: createMessageRegistry(),
    handlers: COMPANY_HANDLERS,
    context: () => context,
    ...(metrics ? { onDelivered: (item: { createdAt: number }, at: number) => metrics.delivered(at - item.createdAt) } : {}),
  });
  const signer = signingKeyOf(identity);
  const commands = createRelationshipCommands({
    store,
    messaging,
    policy,
    terms: { setup, resolver, companyDid: identity.did, signer, now: () => clock.now() },
    clock,
    logger,
  });
  const offers = createCompanyOffers(policy.intents, signer);
  const intents = createIntentCommands({ store, messaging, offers, companyDid: identity.did, clock, logger });
  const retention = createRetentionSweep({ store, messaging, clock, logger });
  const verifications = createCallerVerifications({ store, messaging, clock, logger });
  const accountIds = createCompanyAccountIds({ store, messaging, clock, logger });
  const things = createCompanyThings({ store, messaging, clock, logger, companyDid: identity.did, companyName: options.name, signer });
  const serviceCases = createCompanyServiceCases({ store, messaging, clock, logger });
  const context: CompanyContext = {
    store,
    clock,
    logger,
    resolver,
    companyDid: identity.did,
    companyName: options.name,
    signer,
    policy,
    termsSetup: setup,
    newCustomerRef: () => `C-${randomInt(10_000_000, 99_999_999)}`,
    offers,
    followUps: commands,
    accountIds,
  };

  let described: Promise<SignedCompanyDescription> | undefined;
  const agent: CompanyAgent = {
    name: options.name,
    did: identity.did,
    store,
    intents,
    verifications,
    accountIds,
    things,
    serviceCases,

    async audit(operator, action, relationshipId) {
      await store.addAuditEntry(auditEntry(operator, action, relationshipId, clock.now()));
    },
    auditLog: (auditOptions) => store.listAuditEntries(auditOptions),

    async searchCustomers(query) {
      const text = query.trim();
      if (text === '') return [];
      const all = await store.listRelationships();
      const held = new Set(await store.findRelationshipsByHeldValue(text));
      // A prefix shorter than 4 characters would match half the customers.
      const byId = (r: CompanyRelationship) => r.id === text || (text.length >= 4 && r.id.startsWith(text.toLowerCase()));
      return all.filter((r) => r.state !== 'cut_off' && (r.customerRef === text || byId(r) || held.has(r.id)));
    },

    invitation() {
      return {
        type: OOB_INVITATION_TYPE,
        // Stable per company (the invitation is reusable) yet distinct between companies.
        id: invitationIdFor(identity.did),
        from: identity.did,
        body: { goal_code: KITH_CONNECT_GOAL_CODE, goal: `Connect with ${options.name}`, accept: ['didcomm/v2'] },
      };
    },

    invitationUrl() {
      return invitationUrl(`${options.publicUrl.replace(/\/$/, '')}/invite`, agent.invitation());
    },

    async description() {
      if (policy.intents.categories.length === 0) return undefined;
      // Signed once: it changes only with the policy, which needs a restart.
      described ??= terms.published().then((published) =>
        signCompanyDescription(
          {
            '@type': 'Organization',
            name: options.name,
            identifier: identity.did,
            url: options.publicUrl,
            categories: [...policy.intents.categories],
            accepts: published.accept,
            invitation: agent.invitationUrl(),
            issued: new Date(Math.floor(clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
          },
          signer,
        ),
      );
      return described;
    },

    receive: (packed) => messaging.receive(packed),
    sendMessage: (relationshipId, content) => commands.sendMessage(relationshipId, content),
    relationships: (page) => store.listRelationships(page),
    messages: (relationshipId, page) => store.listMessages(relationshipId, page),
    findRelationship: (reference) => commands.find(reference),
    deliverDue: () => messaging.deliverDue(),
    requestDisclosure: (relationshipId, ask) => commands.requestDisclosure(relationshipId, ask),

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

    publishedTerms: () => terms.published(),
    publishedMyTerms: () => terms.myTerms(),
    termsHistory: (relationshipId) => store.listTermsAgreements(relationshipId),
    proposeTerms: (relationshipId, reference) => commands.proposeTerms(relationshipId, reference),
    dispatchEvents: () => dispatcher.dispatchDue(),
    events: (relationshipId, page = {}) => store.listEvents({ ...(relationshipId === undefined ? {} : { relationshipId }), ...page }),

    async connectors() {
      const counts = await store.countConnectorDeliveries();
      const count = (id: string, state: string) => counts.find((c) => c.connectorId === id && c.state === state)?.count ?? 0;
      return dispatcher.targets().map(({ connector, maxAttempts }) => ({
        id: connector.id,
        type: connector.type,
        maxAttempts,
        delivered: count(connector.id, 'delivered'),
        retrying: count(connector.id, 'failed'),
        dead: count(connector.id, 'dead'),
      }));
    },
    deadLetters: (options) => store.listDeadLetters(options),
    expireRetention: () => retention.expireDue(),
    async replayDeadLetter(eventId, connectorId) {
      if (!dispatcher.connectorIds().includes(connectorId)) {
        throw new ConnectorError('connector.unknown', `No connector "${connectorId}" is configured (configured: ${dispatcher.connectorIds().join(', ') || 'none'})`);
      }
      if (!(await store.replayDeadLetter(eventId, connectorId, clock.now()))) {
        throw new ConnectorError('connector.no_dead_letter', `Connector "${connectorId}" has no dead letter for event ${eventId}`, { retryable: false });
      }
      logger.info('connector_dead_letter_replayed', { connector: connectorId, eventId });
    },
  };
  return agent;
}

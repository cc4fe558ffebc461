import { createHash, randomInt } from 'node:crypto';
import { RelationshipError } from '../core/errors.js';
import { agentEnvironment, type AgentEnvironmentOptions } from '../protocol/agent/environment.js';
import { signingKeyOf, type LocalIdentity } from '../protocol/agent/identity.js';
import { createMessageRegistry } from '../protocol/families/index.js';
import { KITH_CONNECT_GOAL_CODE, OOB_INVITATION_TYPE, invitationUrl, type Invitation } from '../protocol/families/outOfBand.js';
import type { TermsPolicy } from '../protocol/terms/negotiate.js';
import { loadRosterSet, type RosterSet } from '../protocol/terms/rosterSet.js';
import type { CompanyPolicy, DisclosureAsk } from './config.js';
import { ConnectorDispatcher } from './connectors/dispatcher.js';
import { createConnectors, type Connector } from './connectors/index.js';
import { COMPANY_HANDLERS } from './handlers/index.js';
import type { CompanyContext } from './handlers/types.js';
import { createCompanyMessaging } from './messaging.js';
import { createRelationshipCommands, type DisclosureRequestResult, type SendResult, type TermsProposalResult } from './relationshipCommands.js';
import type { ConnectorEvent, ConsentRecordRow, DisclosureRequest, HeldField, StoredMessage, TermsAgreementRow, CompanyRelationship, CompanyStore } from './store/types.js';

export type { DisclosureRequestResult, SendResult, TermsProposalResult } from './relationshipCommands.js';

export interface CompanyAgentOptions extends AgentEnvironmentOptions {
  name: string;
  /** Base URL of this agent; the invitation points here and the DIDComm endpoint is `<publicUrl>/didcomm`. */
  publicUrl: string;
  store: CompanyStore;
  identity: LocalIdentity;
  policy: CompanyPolicy;
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

/** A UUID-shaped id derived from the vendor's DID. */
function invitationIdFor(did: string): string {
  const hex = createHash('sha256').update(did).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function createCompanyAgent(options: CompanyAgentOptions): CompanyAgent {
  const environment = agentEnvironment(options);
  const { clock, logger, resolver, retry } = environment;
  const { store, identity, policy } = options;
  const connectors = options.connectors ?? createConnectors(policy.connectors, { logger });
  const dispatcher = new ConnectorDispatcher(store, connectors, clock, logger, retry);

  let termsSetup: Promise<{ rosters: RosterSet; policy: TermsPolicy }> | undefined;
  async function loadTermsSetup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }> {
    const configured = policy.terms;
    const rosters =
      options.rosters ??
      (await loadRosterSet({ files: configured.rosterFiles, resolver, ...(configured.rosterPublishers ? { publishers: configured.rosterPublishers } : {}) }));
    const idOf = (reference: string): string => rosters.agreement(reference).agreement.id;
    return { rosters, policy: { accept: configured.accept.map(idOf), preferred: configured.preferred === null ? null : idOf(configured.preferred) } };
  }
  /** Loaded once; a failed load is tried again on the next call. */
  function setup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }> {
    termsSetup ??= loadTermsSetup().catch((error: unknown) => {
      termsSetup = undefined;
      throw error;
    });
    return termsSetup;
  }

  const messaging = createCompanyMessaging({ ...environment, store, identity, registry: createMessageRegistry(), handlers: COMPANY_HANDLERS, context: () => context });
  const signer = signingKeyOf(identity);
  const commands = createRelationshipCommands({
    store,
    messaging,
    policy,
    terms: { setup, resolver, companyDid: identity.did, signer, now: () => clock.now() },
    clock,
    logger,
  });
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
    followUps: commands,
  };

  const agent: CompanyAgent = {
    name: options.name,
    did: identity.did,
    store,

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

    receive: (packed) => messaging.receive(packed),
    sendMessage: (relationshipId, content) => commands.sendMessage(relationshipId, content),
    relationships: () => store.listRelationships(),
    messages: (relationshipId) => store.listMessages(relationshipId),
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

    async publishedTerms() {
      const { rosters, policy: terms } = await setup();
      return {
        rosters: rosters.list().map((r) => ({ id: r.id, version: r.version, publisher: r.publisher })),
        accept: [...terms.accept],
        preferred: terms.preferred,
        rule: terms.preferred === null ? 'accept the listed agreements; reject any other' : 'accept the listed agreements; otherwise counter once with the preferred one',
        asksOnConnect: askOnConnect(policy),
      };
    },

    termsHistory: (relationshipId) => store.listTermsAgreements(relationshipId),
    proposeTerms: (relationshipId, reference) => commands.proposeTerms(relationshipId, reference),
    dispatchEvents: () => dispatcher.dispatchDue(),
    events: (relationshipId) => store.listEvents(relationshipId === undefined ? {} : { relationshipId }),
  };
  return agent;
}

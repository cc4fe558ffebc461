import { agentEnvironment, type AgentEnvironmentOptions } from '../protocol/agent/environment.js';
import { createMessageRegistry } from '../protocol/families/index.js';
import { loadRosterSet, type RosterSet } from '../protocol/terms/rosterSet.js';
import type { AgentCore } from './core.js';
import { createCredentialsFeature, type CredentialsFeature } from './credentials.js';
import { createDisclosureFeature, type DisclosureFeature } from './disclosure/disclosure.js';
import { createRulesFeature, type RulesFeature } from './disclosure/ruleBook.js';
import { AgentEvents } from './events.js';
import { PERSONAL_HANDLERS } from './handlers/index.js';
import type { PersonalContext } from './handlers/types.js';
import { createPersonalMessaging } from './messaging.js';
import { createProfileFeature, type ProfileFeature } from './profile/fanout.js';
import { createRelationshipCommands, type RelationshipCommands } from './relationshipCommands.js';
import { findRelationship, requireLive } from './relationshipLookup.js';
import { createDirectoryFeature, type DirectoryFeature } from './directory.js';
import { createIntentsFeature, type IntentsFeature } from './intents.js';
import { createOpener } from './opening.js';
import { createTermsFeature, type TermsFeature } from './terms.js';
import { createVerificationsFeature, type VerificationsFeature } from './verifications.js';
import { createAccountIdsFeature, type AccountIdsFeature } from './accountIds.js';
import { createThingsFeature, type ThingsFeature } from './things.js';
import { createPersonasFeature, type PersonasFeature } from './personas.js';
import { createThingProtocolFeature, type ThingProtocolFeature } from './thingProtocol.js';
import { createServiceCasesFeature, type ServiceCasesFeature } from './serviceCases.js';
import type { Vault } from './vault/vault.js';

export type { ConnectPreview } from './relationshipCommands.js';
export type { SendOutcome } from './messaging.js';

export interface PersonalAgentOptions extends AgentEnvironmentOptions {
  vault: Vault;
  /** Base URL companies push to; each relationship gets its own path `<base>/didcomm/<route>`. A function, because the port may be known only once listening. */
  inboundBaseUrl: () => string;
  /** How many companies a profile change is sent to at once. */
  fanoutConcurrency?: number;
  /** The terms rosters she knows; default the bundled roster (loaded on first use). */
  rosters?: RosterSet;
}

const DEFAULT_FANOUT_CONCURRENCY = 32;

/** The personal agent: her side of every relationship. HTTP lives in http/localApi.ts. */
export interface PersonalAgent extends RelationshipCommands {
  readonly vault: Vault;
  /** Progress and arrivals, for the UI (server-sent events) and the CLI's progress bar. */
  readonly events: AgentEvents;
  /** Requests from companies, her answers, and the consent records of both. */
  readonly disclosure: DisclosureFeature;
  /** Her disclosure rules: which requests are answered without her, the switch, and whom she trusts. */
  readonly rules: RulesFeature;
  /** Her terms: defaults, proffers, the company's answers, her rule for counters, the records. */
  readonly terms: TermsFeature;
  /** Her profile and the change-once-everywhere fan-out. */
  readonly profile: ProfileFeature;
  /** SD-JWT VCs others issued her. */
  readonly credentials: CredentialsFeature;
  /** What she wants, cast to companies, and the signed offers that answer it. */
  readonly intents: IntentsFeature;
  /** The companies (and directories of them) she chose for anonymous intents. */
  readonly directory: DirectoryFeature;
  /** Companies asking her to confirm she is the caller on the phone, and her answers. */
  readonly verifications: VerificationsFeature;
  /** What each company knows her by (docs/protocol/account.md). */
  readonly accountIds: AccountIdsFeature;
  /** Her things, their contracts, documents and companies (issue 13). */
  readonly things: ThingsFeature;
  /** Her personas: several selves, each with its own profile values (decision 0022). */
  readonly personas: PersonasFeature;
  /** Sellers' signed receipts, registration with makers (docs/protocol/thing.md). */
  readonly thingProtocol: ThingProtocolFeature;
  /** Service cases about her things, opened on the relationship that supports each (docs/protocol/service.md). */
  readonly serviceCases: ServiceCasesFeature;
  /**
   * Fetches what companies queued while she was away (Message Pickup 3.0), one company after
   * another; an aborted `signal` stops it before the next company (the server's shutdown).
   */
  pickup(options?: { signal?: AbortSignal }): Promise<{ received: number; failed: number }>;
  /** Retries her queued outgoing messages that are due. */
  deliverOutbox(): Promise<number>;
  /** One message pushed to `<base>/didcomm/<route>`. */
  receivePushed(routeToken: string, packed: Uint8Array | string): Promise<{ reply: string | undefined }>;
}

/** Builds her agent from its parts; every part has one job (see docs/architecture.md). */
export function createPersonalAgent(options: PersonalAgentOptions): PersonalAgent {
  const { vault } = options;
  const environment = agentEnvironment(options);
  const { clock, logger, engine, resolver, retry } = environment;
  const events = new AgentEvents();

  const messaging = createPersonalMessaging({ ...environment, vault, registry: createMessageRegistry(), handlers: PERSONAL_HANDLERS, context: () => context, events });
  const core: AgentCore = {
    vault,
    clock,
    logger,
    resolver,
    events,
    find: (reference) => findRelationship(vault, reference),
    requireLive,
    identityOf: (relationship) => messaging.identityOf(relationship),
    exchange: (relationship, message, exchangeOptions) => messaging.exchange(relationship, message, exchangeOptions),
    sendOrQueue: (relationship, message) => messaging.sendOrQueue(relationship, messaging.build(relationship, message)),
  };
  const personas = createPersonasFeature(core);
  const disclosure = createDisclosureFeature(core);
  const rules = createRulesFeature(core, disclosure, personas);
  const profile = createProfileFeature(core, { retry, concurrency: options.fanoutConcurrency ?? DEFAULT_FANOUT_CONCURRENCY, personas });
  const credentials = createCredentialsFeature(core);
  const terms = createTermsFeature(core, {
    pickup: (relationship) => messaging.pickupFrom(relationship),
    rosters: async () => options.rosters ?? loadRosterSet({ resolver }),
  });
  const open = createOpener({ vault, messaging, clock, resolver, engine, inboundBaseUrl: options.inboundBaseUrl, fetch: options.fetch });
  const directory = createDirectoryFeature({ settings: vault.settings, resolver, clock, logger, fetch: options.fetch });
  const intents = createIntentsFeature(core, { directory, open, terms, personas });
  const verifications = createVerificationsFeature(core);
  const accountIds = createAccountIdsFeature(core);
  const things = createThingsFeature(core);
  const thingProtocol = createThingProtocolFeature(core, things);
  const serviceCases = createServiceCasesFeature(core, things);
  const context: PersonalContext = { vault, clock, logger, events, resolver, terms, intents, rules };
  const relationships = createRelationshipCommands({ vault, messaging, terms, personas, clock, logger, resolver, open, fetch: options.fetch });

  return {
    ...relationships,
    vault,
    events,
    disclosure,
    rules,
    profile,
    personas,
    credentials,
    terms,
    intents,
    directory,
    verifications,
    accountIds,
    things,
    thingProtocol,
    serviceCases,
    pickup: (pickupOptions) => messaging.pickup(pickupOptions),
    deliverOutbox: () => messaging.deliverOutbox(),
    receivePushed: (routeToken, packed) => messaging.receivePushed(routeToken, packed),
  };
}


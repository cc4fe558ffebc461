import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Outgoing } from '../../protocol/buildMessage.js';
import type { DidResolver } from '../../protocol/did/types.js';
import type { SigningKey } from '../../protocol/envelope/engine.js';
import type { ReceivedMessage } from '../../protocol/envelope/receive.js';
import type { MessageDefinition } from '../../protocol/families/registry.js';
import type { TermsPolicy } from '../../protocol/terms/negotiate.js';
import type { RosterSet } from '../../protocol/terms/rosterSet.js';
import type { CompanyAccountIds } from '../accountIdentifiers.js';
import type { CompanyPolicy } from '../config.js';
import type { CompanyOffers } from '../intents/offers.js';
import type { CompanyRelationship, CompanyStore } from '../store/types.js';

/**
 * What the company's handlers may use: who the company is, its policy and store, and the follow-ups
 * a message can set off once it is stored. Built once by createCompanyAgent.
 */
export interface CompanyContext {
  readonly store: CompanyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly resolver: DidResolver;
  readonly companyDid: string;
  readonly companyName: string;
  readonly signer: SigningKey;
  readonly policy: CompanyPolicy;
  /** Its terms policy with agreement names resolved, and the rosters (loaded once). */
  termsSetup(): Promise<{ rosters: RosterSet; policy: TermsPolicy }>;
  newCustomerRef(): string;
  /** Its catalog and the offers it signs (company/intents/offers.ts). */
  readonly offers: CompanyOffers;
  readonly followUps: FollowUps;
  /** What it knows her by, sent to her agent (company/accountIdentifiers.ts). */
  readonly accountIds: CompanyAccountIds;
}

/** Work a handler's `after` may start once its message is stored (company/relationshipCommands.ts). */
export interface FollowUps {
  /** The policy's welcome message, queued (her agent still waits for the connect response). */
  welcome(relationship: CompanyRelationship): Promise<void>;
  /** The policy's first disclosure request, once the terms are settled (never twice). */
  requestOnConnect(relationship: CompanyRelationship, pushDelayMs?: number): Promise<void>;
  /** Pushes what waits in the outbox for this relationship now. */
  deliverQueued(relationship: CompanyRelationship): Promise<number>;
}

/** What applying a message leads to: a reply, and how it travels when not on the same response. */
export interface CompanyEffect {
  reply?: Outgoing;
  /**
   * `outbox` (default): queued, pushed and picked up like any message. `direct`: one push attempt,
   * for a reply that cannot wait in an outbox it just erased (the erasure receipt).
   */
  replyDelivery?: 'outbox' | 'direct';
}

/** The transaction a handler writes in: the store bound to it and the sender's live relationship. */
export interface CompanyTx {
  readonly store: CompanyStore;
  readonly relationship: CompanyRelationship;
  readonly context: CompanyContext;
  readonly now: number;
}

/** A handler for messages on an existing relationship (every type but connect/request). */
export interface RelationshipHandler<Body, Checked> {
  readonly definition: MessageDefinition<Body>;
  readonly opensRelationship?: false;
  /** Checks that need signatures, DID resolution or the network, before the transaction: a refused message writes nothing. */
  verify?(received: ReceivedMessage<Body>, context: CompanyContext): Promise<Checked>;
  /** Its effects, in the transaction that records the message id as seen. */
  apply(tx: CompanyTx, received: ReceivedMessage<Body>, checked: Checked): Promise<CompanyEffect>;
  /** After the commit and the reply: follow-ups that are not part of the message's effect. */
  after?(relationship: CompanyRelationship, context: CompanyContext): Promise<void>;
}

/** The handler that opens a relationship (connect/request): there is none to look up yet. */
export interface OpeningHandler<Body, Checked> {
  readonly definition: MessageDefinition<Body>;
  readonly opensRelationship: true;
  verify?(received: ReceivedMessage<Body>, context: CompanyContext): Promise<Checked>;
  apply(tx: Omit<CompanyTx, 'relationship'>, received: ReceivedMessage<Body>, checked: Checked): Promise<CompanyEffect & { relationship: CompanyRelationship }>;
  after?(relationship: CompanyRelationship, context: CompanyContext): Promise<void>;
}

// `any`: one list holds the handlers of every body type; each is typed by its own definition.
export type CompanyHandler = RelationshipHandler<any, any> | OpeningHandler<any, any>;

/** Declares a handler with its body type taken from the definition and its check's type from `verify`. */
export function companyHandler<Body, Checked = undefined>(handler: RelationshipHandler<Body, Checked>): RelationshipHandler<Body, Checked> {
  return handler;
}

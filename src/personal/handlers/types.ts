import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';
import type { Outgoing } from '../../protocol/buildMessage.js';
import type { ReceivedMessage } from '../../protocol/envelope/receive.js';
import type { MessageDefinition } from '../../protocol/families/registry.js';
import type { DidcommMessage } from '../../protocol/message.js';
import type { AgentEvent, AgentEvents } from '../events.js';
import type { DidResolver } from '../../protocol/did/types.js';
import type { IntentsFeature } from '../intents.js';
import type { RulesFeature } from '../disclosure/ruleBook.js';
import type { TermsFeature } from '../terms.js';
import type { RelationshipRecord } from '../vault/relationshipRepo.js';
import type { Vault } from '../vault/vault.js';

/** What her handlers may use: the vault, time, the UI's events and her terms. Built once by createPersonalAgent. */
export interface PersonalContext {
  readonly vault: Vault;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events: AgentEvents;
  readonly resolver: DidResolver;
  readonly terms: TermsFeature;
  readonly intents: IntentsFeature;
  /** Her disclosure rules, which may answer a request by themselves. */
  readonly rules: RulesFeature;
}

/** What a message leads to besides its writes: an answer to the company, and news for her UI. */
export interface PersonalEffect {
  /** A reply on the thread; `aboutThread` sends it as a problem report about it (pthid) instead. */
  reply?: Outgoing & { aboutThread?: boolean };
  /** Told to her UI once the transaction committed. */
  notify?: AgentEvent;
}

/** The transaction a handler writes in. */
export interface PersonalTx {
  readonly vault: Vault;
  /** The company's relationship the message came on (checked: sender, pairwise DID, not cut off). */
  readonly relationship: RelationshipRecord;
  readonly now: number;
  readonly context: PersonalContext;
  /**
   * Her own message this one answers, when it came back on her exchange (matched on `thid`);
   * undefined for a message the company pushed or she picked up.
   */
  readonly inReplyTo: DidcommMessage | undefined;
}

export interface PersonalHandler<Body, Checked> {
  readonly definition: MessageDefinition<Body>;
  /** Checks that need signatures or the network, before the transaction: a refused message writes nothing. */
  verify?(received: ReceivedMessage<Body>, context: PersonalContext, inReplyTo: DidcommMessage | undefined): Promise<Checked>;
  /** Its effects, in the vault transaction that records the message id as seen (synchronous, like the vault). */
  apply(tx: PersonalTx, received: ReceivedMessage<Body>, checked: Checked): PersonalEffect | void;
  /** After the commit: work the message sets off that is not part of its effect (e.g. her rule on a proposal). */
  after?(relationship: RelationshipRecord, context: PersonalContext, checked: Checked): Promise<void>;
}

// `any`: one list holds the handlers of every body type; each is typed by its own definition.
export type AnyPersonalHandler = PersonalHandler<any, any>;

/** Declares a handler with its body type taken from the definition and its check's type from `verify`. */
export function personalHandler<Body, Checked = undefined>(handler: PersonalHandler<Body, Checked>): PersonalHandler<Body, Checked> {
  return handler;
}

/** The answer a reply belongs to, if it is one of `definitions`: her message's body, typed by its definition. */
export function answered<Body>(inReplyTo: DidcommMessage | undefined, ...definitions: MessageDefinition<Body>[]): (DidcommMessage & { body: Body }) | undefined {
  return inReplyTo !== undefined && definitions.some((d) => d.type === inReplyTo.type) ? (inReplyTo as DidcommMessage & { body: Body }) : undefined;
}

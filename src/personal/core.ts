import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { LocalIdentity } from '../protocol/agent/identity.js';
import type { Outgoing } from '../protocol/buildMessage.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import type { AgentEvents } from './events.js';
import type { ExchangeOptions, SendOutcome } from './messaging.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export type { ExchangeOptions } from './messaging.js';

/**
 * What the personal agent's feature modules (disclosure, profile, credentials, terms) share: the
 * vault, time, and the one way to talk to a company. Built once in createPersonalAgent.
 */
export interface AgentCore {
  readonly vault: Vault;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly resolver: DidResolver;
  readonly events: AgentEvents;
  /** By id, id prefix or company name. @throws RelationshipError `relationship.unknown` */
  find(reference: string): RelationshipRecord;
  /** @throws RelationshipError `relationship.cut_off` */
  requireLive(relationship: RelationshipRecord): void;
  /** Her pairwise DID and keys for this relationship. @throws RelationshipError `relationship.cut_off` once the keys are gone */
  identityOf(relationship: RelationshipRecord): LocalIdentity;
  /**
   * Sends one message and, if the company answered on the same response, applies its reply with
   * the reply's handler (personal/handlers/), which matches it to this message on thid.
   */
  exchange(relationship: RelationshipRecord, message: Outgoing, options?: ExchangeOptions): Promise<ReceivedMessage | undefined>;
  /** Sends one message that needs no answer now, or keeps it in her outbox for retry when the company cannot be reached. */
  sendOrQueue(relationship: RelationshipRecord, message: Outgoing): Promise<SendOutcome>;
}

import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { LocalIdentity } from '../protocol/agent/identity.js';
import type { DidResolver } from '../protocol/did/types.js';
import type { ReceivedMessage } from '../protocol/envelope/receive.js';
import type { AgentEvents } from './events.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import type { Vault } from './vault/vault.js';

export interface ExchangeOptions {
  /** Ask for the reply on the same HTTP response. */
  returnRoute?: boolean;
  thid?: string;
  /** A message id chosen by the caller (e.g. to bind a key-binding nonce to this very message). */
  id?: string;
  /** Runs on the verified reply before its transaction: checks that need signatures or the network. */
  before?: (reply: ReceivedMessage) => Promise<void>;
  /** Runs inside the transaction that records the reply, so its effects and the reply commit together. */
  within?: (reply: ReceivedMessage, relationship: RelationshipRecord) => void;
}

/**
 * What the personal agent's feature modules (disclosure, profile, credentials) share: the vault,
 * time, and the one way to talk to a company. Built once in createPersonalAgent.
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
  /** Sends one message and applies the company's reply (if it answered on the same response). */
  exchange(relationship: RelationshipRecord, type: string, body: Record<string, unknown>, options?: ExchangeOptions): Promise<ReceivedMessage | undefined>;
}

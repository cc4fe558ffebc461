/**
 * What the company agent tells the company's own systems. Every event is written to the store's
 * `connector_events` outbox in the same transaction as the change it reports, then handed to each
 * configured connector; an event counts as dispatched only when every connector took it, so a
 * connector that is down gets it later (at least once: connectors must be idempotent on `id`).
 */
import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/log.js';

export const connectorEventTypeSchema = z.enum(['profile.disclosed', 'profile.updated', 'disclosure.declined', 'relationship.erased', 'terms.agreed', 'intent.received', 'offer.accepted', 'offer.declined', 'consent.withdrawn', 'consent.expired', 'data_rights.request', 'thing.registered', 'service_case.opened']);
export type ConnectorEventType = z.infer<typeof connectorEventTypeSchema>;

/** Checked when read back from the store: a drifted row must fail loudly, not reach a CRM. */
export const connectorEventPayloadSchema = z.object({
  relationshipId: z.string(),
  customerRef: z.string().nullable(),
  /** Field name -> value, for disclosed and updated events. */
  fields: z.record(z.string(), z.unknown()).optional(),
  /** Her profile version the values are at (profile.updated). */
  version: z.number().int().optional(),
  consentRecordId: z.string().optional(),
  purpose: z.string().optional(),
  /** terms.agreed: the agreement (URI) and the id of the record both parties signed. */
  agreementId: z.string().optional(),
  recordId: z.string().optional(),
  /** intent.received, offer.*: the intent (this company's id for it), its category, the offer. */
  intentId: z.string().optional(),
  category: z.string().optional(),
  offerId: z.string().optional(),
  /** consent.withdrawn: the fields she took back (their values are erased) and the records that say so. */
  withdrawnFields: z.array(z.string()).optional(),
  consentRecordIds: z.array(z.string()).optional(),
  reason: z.string().optional(),
  /** data_rights.request, in the Data Rights Protocol's words: her request id, the exercise and its status. */
  requestId: z.string().optional(),
  exercise: z.string().optional(),
  status: z.string().optional(),
  /** thing.registered: her registration's id (the claims she shared are in `fields`). */
  registrationId: z.string().optional(),
  /** service_case.opened: the company's id of the case (its details: GET /admin/cases/:id) and whether a warranty was in force. */
  caseId: z.string().optional(),
  warrantyClaim: z.boolean().optional(),
});
export type ConnectorEventPayload = z.infer<typeof connectorEventPayloadSchema>;

export interface ConnectorDelivery {
  id: string;
  type: ConnectorEventType;
  createdAt: number;
  payload: ConnectorEventPayload;
}

/** A configured connector: one company system, under the id its delivery state is kept by. */
export interface Connector {
  /** Unique among the configured connectors; the key of its delivery state and dead letters. */
  readonly id: string;
  /** Its kind (`logging`, `webhook`, `scim`, …): the `type` of its configuration. */
  readonly type: string;
  /**
   * Resolves when the company system has taken the event. Throws ConnectorError to say why not
   * (retryable, or not: then straight to the dead letters); any other error counts as retryable.
   * Must be idempotent on `event.id`: an event is delivered at least once.
   */
  deliver(event: ConnectorDelivery): Promise<void>;
}

/** A connector id: what the admin API, metrics and dead letters name it by. */
export const connectorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lower-case letters, digits, - and _, at most 40');

/** What every connector may use; each takes only what it needs. */
export interface ConnectorDeps {
  logger: Logger;
  clock: Clock;
}

/** The common part of every connector's configuration (each kind's schema extends it). */
export interface ConnectorConfigBase {
  type: string;
  id: string;
  /** Attempts before an event goes to the dead letters. */
  maxAttempts: number;
}

/** One kind of connector: the zod schema of its configuration and how to make one from it. */
export interface ConnectorKind<Config extends ConnectorConfigBase = ConnectorConfigBase> {
  readonly type: Config['type'];
  readonly config: z.ZodType<Config>;
  create(config: Config, deps: ConnectorDeps): Connector;
}

/** Attempts before a dead letter, unless a connector's configuration says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 10;
export const maxAttemptsSchema = z.number().int().min(1).max(100).default(DEFAULT_MAX_ATTEMPTS);

/** Declares a kind (typed), for the explicit list in connectors/index.ts. */
export function defineConnectorKind<Config extends ConnectorConfigBase>(kind: ConnectorKind<Config>): ConnectorKind<Config> {
  return kind;
}

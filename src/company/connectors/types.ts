/**
 * What the company agent tells the company's own systems. Every event is written to the store's
 * `connector_events` outbox in the same transaction as the change it reports, then handed to each
 * configured connector; an event counts as dispatched only when every connector took it, so a
 * connector that is down gets it later (at least once: connectors must be idempotent on `id`).
 */
import { z } from 'zod';

export const connectorEventTypeSchema = z.enum(['profile.disclosed', 'profile.updated', 'disclosure.declined', 'relationship.erased', 'terms.agreed', 'intent.received', 'offer.accepted', 'offer.declined', 'consent.withdrawn']);
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
});
export type ConnectorEventPayload = z.infer<typeof connectorEventPayloadSchema>;

export interface ConnectorDelivery {
  id: string;
  type: ConnectorEventType;
  createdAt: number;
  payload: ConnectorEventPayload;
}

export interface Connector {
  readonly name: string;
  /** Resolves when the connector has taken the event; throws to have it retried later. */
  deliver(event: ConnectorDelivery): Promise<void>;
}

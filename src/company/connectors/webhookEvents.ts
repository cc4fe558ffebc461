/**
 * What each connector event type carries, one precise schema per type: the payload members the
 * code that writes the event puts in it (company/disclosure.ts, consentWithdrawal.ts, terms.ts,
 * handlers/intent.ts, handlers/relationship.ts, dataRights.ts, retention.ts, serviceCases.ts), as the Standard Webhooks spec asks a sender to
 * document them. `connectorEventsJsonSchema()` makes docs/connectors/events.schema.json from
 * these (webhookEvents.test.ts keeps the file equal to it, and checks real events against them).
 */
import { z } from 'zod';
import type { ConnectorEventType } from './types.js';

const relationshipId = z.string().describe("The company's id of the relationship (stable for its life; what the company's systems key her by together with customerRef)");
const customerRef = z.string().nullable().describe('The customer number the company gave her; null once an erasure event was dispatched and replayed');
const fields = z
  .record(z.string(), z.unknown())
  .describe('Claim name -> value as she disclosed it: her profile fields (docs/protocol/disclose.md) and credential claims. Values she later withdrew are removed from events not yet delivered');
const consentRecordId = z.uuid().describe('The consent record (ISO/IEC TS 27560 shape) both sides keep under this id');
const purpose = z.string().describe('The purpose the fields were asked or disclosed for');
const intentId = z.string().describe('Her intent, under the id she used with this company');
const offerId = z.string().describe("The company's offer");

const base = { relationshipId, customerRef };

/** The `data` of each event type. */
export const connectorEventDataSchemas = {
  'profile.disclosed': z.strictObject({ ...base, fields, consentRecordId, purpose }).describe('She disclosed fields (answering a request, or with an intent)'),
  'profile.updated': z
    .strictObject({ ...base, fields: fields.describe('The fields the company holds that changed: claim name -> new value'), version: z.number().int().min(1).describe('Her profile version the values are at (never goes back)') })
    .describe('She changed fields the company holds'),
  'disclosure.declined': z.strictObject({ ...base, consentRecordId, purpose }).describe('She declined a disclosure request (recorded as a refused consent record)'),
  'relationship.erased': z.strictObject({ ...base }).describe('She cut the relationship off and asked for erasure: the company store erased what it held; its systems must erase too'),
  'terms.agreed': z
    .strictObject({
      ...base,
      agreementId: z.string().describe('The agreement (its URI in the roster of standard agreements) both parties signed'),
      recordId: z.string().describe('The id of the agreement record signed by both'),
    })
    .describe('Both parties signed an agreement of terms (it supersedes the one before)'),
  'intent.received': z.strictObject({ ...base, intentId, category: z.string().describe('The intent category (the shipped category list)') }).describe('She cast an intent to this company'),
  'offer.accepted': z.strictObject({ ...base, intentId, offerId }).describe('She accepted an offer of this company'),
  'offer.declined': z.strictObject({ ...base, intentId, offerId }).describe('She declined an offer of this company'),
  'consent.withdrawn': z
    .strictObject({
      ...base,
      withdrawnFields: z.array(z.string()).describe('The fields the company held and erased (their values are gone from events not yet delivered too)'),
      consentRecordIds: z.array(z.uuid()).describe('The consent records the withdrawal is recorded in'),
      reason: z.enum(['removed_from_profile', 'withdrawn']).describe('She removed the fields from her profile, or kept them but withdrew this company\'s consent'),
    })
    .describe('She withdrew her consent for fields'),
  'consent.expired': z
    .strictObject({
      ...base,
      withdrawnFields: z.array(z.string()).describe('The fields the company held under the record and has deleted'),
      consentRecordIds: z.array(z.uuid()).describe('The consent record whose retention ended (now expired on both sides)'),
    })
    .describe('The retention she agreed to ended: the company deleted what it held under that consent and told her'),
  'data_rights.request': z
    .strictObject({
      ...base,
      requestId: z.uuid().describe("Her id for the request (Data Rights Protocol request_id)"),
      exercise: z.enum(['access']).describe('The right exercised (Data Rights Protocol exercise); deletion is relationship.erased'),
      status: z.enum(['fulfilled', 'denied']).describe('How the company agent answered (Data Rights Protocol status)'),
      reason: z.enum(['too_many_requests']).optional().describe('Why it was denied (Data Rights Protocol reason)'),
    })
    .describe('She exercised a data right (today: access) and the company agent answered it at once (docs/protocol/data-rights.md)'),
  'thing.registered': z
    .strictObject({
      ...base,
      registrationId: z.uuid().describe('Her id for the registration (docs/protocol/thing.md)'),
      fields: z.record(z.string(), z.unknown()).describe('The product claims she chose to share: gtin and/or model, and any of name, brand, mpn, serial_number, purchase_date, seller'),
      consentRecordId,
      purpose,
    })
    .describe('She registered a thing the company makes (docs/protocol/thing.md): what a recall of its GTIN or model reaches'),
  'service_case.opened': z
    .strictObject({
      ...base,
      caseId: z.uuid().describe("The company's id of the case: its details, the thing's details she shared and the thread, are at GET /admin/cases/{caseId}"),
      warrantyClaim: z.boolean().describe('Her agent found a warranty of the thing in force when she opened the case'),
    })
    .describe('She opened a service case about one of her things (docs/protocol/service.md)'),
} as const satisfies Record<ConnectorEventType, z.ZodObject>;

/** The body a webhook receiver gets for an event of `type`. */
export function webhookBodySchema<T extends ConnectorEventType>(type: T) {
  return z.strictObject({
    type: z.literal(type),
    timestamp: z.iso.datetime({ precision: 3 }).describe('When the event happened (ISO 8601, UTC), not when it was delivered'),
    data: connectorEventDataSchemas[type],
  });
}

/**
 * docs/connectors/events.schema.json: one JSON Schema (draft 2020-12) per event type under
 * `$defs`, and the body of any event as one of them.
 */
export function connectorEventsJsonSchema(): Record<string, unknown> {
  const types = Object.keys(connectorEventDataSchemas) as ConnectorEventType[];
  const defs: Record<string, unknown> = {};
  for (const type of types) {
    const { $schema: _, ...schema } = z.toJSONSchema(webhookBodySchema(type), { target: 'draft-2020-12' });
    defs[type] = { title: type, description: connectorEventDataSchemas[type].description, ...schema };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Kith company connector events',
    description: 'The body of each event a company agent sends its own systems (the webhook connector\'s request body, docs/connectors.md), by `type`. Generated from src/company/connectors/webhookEvents.ts.',
    oneOf: types.map((type) => ({ $ref: `#/$defs/${type}` })),
    $defs: defs,
  };
}

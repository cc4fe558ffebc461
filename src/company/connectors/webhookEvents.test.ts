import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectorEventPayloadSchema, connectorEventTypeSchema } from './types.js';
import { webhookBody } from './webhook.js';
import { connectorEventDataSchemas, connectorEventsJsonSchema, webhookBodySchema } from './webhookEvents.js';

/*
 * docs/connectors/events.schema.json is what connectorEventsJsonSchema() makes from the zod
 * schemas of each event type. This test fails when they drift; to rewrite the file:
 *   KITH_WRITE_SCHEMAS=1 npx vitest run src/company/connectors/webhookEvents
 * (test/agents/webhook.test.ts checks that the events real flows write match these schemas.)
 */

const WRITE = process.env['KITH_WRITE_SCHEMAS'] === '1';
const DIR = new URL('../../../docs/connectors/', import.meta.url);
const FILE = new URL('events.schema.json', DIR);

describe('the JSON Schema of each connector event type', () => {
  const generated = `${JSON.stringify(connectorEventsJsonSchema(), null, 2)}\n`;

  it.runIf(WRITE)('writes docs/connectors/events.schema.json (KITH_WRITE_SCHEMAS=1)', () => {
    if (!existsSync(DIR)) mkdirSync(DIR, { recursive: true });
    writeFileSync(FILE, generated);
  });

  it('is committed exactly as the code makes it', () => {
    expect(readFileSync(FILE, 'utf8'), 'docs/connectors/events.schema.json drifted: rewrite it with KITH_WRITE_SCHEMAS=1 and review the diff').toBe(generated);
  });

  it('documents every event type, and only members the payload schema keeps (the dispatcher strips the rest)', () => {
    const schema = JSON.parse(generated) as { $schema: string; oneOf: { $ref: string }[]; $defs: Record<string, { properties: { type: { const: string }; data: { required: string[] } } }> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.$defs).sort()).toEqual([...connectorEventTypeSchema.options].sort());
    expect(schema.oneOf.map((r) => r.$ref).sort()).toEqual(connectorEventTypeSchema.options.map((t) => `#/$defs/${t}`).sort());
    const known = Object.keys(connectorEventPayloadSchema.shape);
    for (const type of connectorEventTypeSchema.options) {
      expect(schema.$defs[type]!.properties.type.const).toBe(type);
      const members = Object.keys(connectorEventDataSchemas[type].shape);
      for (const member of members) expect(known, `${type}.${member}`).toContain(member);
      // Every type names the relationship and the customer.
      expect(schema.$defs[type]!.properties.data.required).toEqual(expect.arrayContaining(['relationshipId', 'customerRef']));
    }
  });

  it('describes the body the webhook connector sends, and refuses members a type does not carry', () => {
    const event = {
      id: '00000000-0000-4000-8000-000000000001',
      type: 'offer.accepted' as const,
      createdAt: Date.UTC(2026, 11, 4, 12, 0, 0, 250),
      payload: { relationshipId: 'rel-1', customerRef: 'C-1001', intentId: 'intent-1', offerId: 'offer-1' },
    };
    const body = JSON.parse(webhookBody(event)) as unknown;
    expect(webhookBodySchema('offer.accepted').parse(body)).toEqual({ type: 'offer.accepted', timestamp: '2026-12-04T12:00:00.250Z', data: event.payload });
    expect(webhookBodySchema('offer.accepted').safeParse({ ...(body as object), data: { ...event.payload, fields: {} } }).success).toBe(false);
    expect(webhookBodySchema('offer.accepted').safeParse({ ...(body as object), data: { relationshipId: 'rel-1', customerRef: 'C-1001', intentId: 'intent-1' } }).success).toBe(false);
    expect(webhookBodySchema('offer.declined').safeParse(body).success).toBe(false);
  });
});

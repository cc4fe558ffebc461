import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPair, type Pair } from '../support/agents.js';

/** The admin API parses every JSON body with one schema per route (core/jsonBody.ts). */
describe('the company admin API refuses bad JSON bodies as api.bad_request naming the fields, and changes nothing', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair();
  });
  afterAll(async () => {
    await pair?.cleanup();
  });

  async function post(path: string, body: string): Promise<{ status: number; error: { code?: string; message?: string } | undefined }> {
    const response = await fetch(`${pair.company.url}/admin/relationships/${pair.link.companyRelationship.customerRef}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pair.company.adminToken}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, error: ((await response.json()) as { error?: { code?: string; message?: string } }).error };
  }

  const cases: [string, string, string, string][] = [
    ['a message without content', 'messages', '{"text":"hi"}', 'Invalid request body: content: required; body must be {"content": "..."}'],
    ['a message that is not JSON', 'messages', 'hi', 'Invalid request body: (root): a JSON body is required; body must be {"content": "..."}'],
    ['terms without an agreement', 'terms', '{"agreement":""}', 'Invalid request body: agreement: at least 1 character; body must be {"agreement": "<agreement id or short name>"}'],
    ['terms with an unknown key', 'terms', '{"agreement":"service-only","extra":1}', 'Invalid request body: (root): unknown member "extra"; body must be {"agreement": "<agreement id or short name>"}'],
    ['a disclosure request without a purpose', 'disclosure-requests', '{"fields":["email"]}', 'Invalid request body: purpose: required; body must be {"fields": [...], "purpose": "..."}'],
    ['a disclosure request for a field that is not a claim name', 'disclosure-requests', '{"fields":["E-mail"],"purpose":"Receipts"}', 'Invalid request body: fields.0: must be a lower-case snake_case claim name; body must be {"fields": [...], "purpose": "..."}'],
    ['a disclosure request with a bad retention', 'disclosure-requests', '{"fields":["email"],"purpose":"Receipts","retention":"30 days"}', 'Invalid request body: retention: must be an ISO 8601 duration such as P1Y; body must be {"fields": [...], "purpose": "..."}'],
    ['a disclosure request that asks for nothing', 'disclosure-requests', '{"purpose":"Receipts"}', 'Invalid request body: (root): asks for at least one field or credential; body must be {"fields": [...], "purpose": "..."}'],
    ['a disclosure request that is an array', 'disclosure-requests', '[]', 'Invalid request body: (root): must be an object; body must be {"fields": [...], "purpose": "..."}'],
  ];

  it.each(cases)('refuses %s', async (_title, path, body, message) => {
    const companyBefore = await pair.company.snapshot();
    const herBefore = pair.personal.snapshot();
    // The fields at fault also come as a list (details.fields), for a client to mark them.
    expect(await post(path, body)).toMatchObject({ status: 400, error: { code: 'api.bad_request', message, details: { fields: expect.any(Array) } } });
    expect(await pair.company.snapshot()).toEqual(companyBefore);
    expect(pair.personal.snapshot()).toEqual(herBefore);
  });
});

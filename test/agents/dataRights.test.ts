/**
 * Her right of access, answered by the company's agent over real HTTP: a signed, machine-readable
 * copy of everything it holds on the relationship, kept in her vault; the request recorded on the
 * company's side in the Data Rights Protocol's words (and her deletion at cut-off too); resends,
 * a daily limit, malformed and cut-off requests refused with their codes and nothing changed.
 */
import { randomUUID } from 'node:crypto';
import { generalVerify, importJWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACCESS_REQUESTS_PER_DAY } from '../../src/company/dataRights.js';
import { DataRights } from '../../src/protocol/families/index.js';
import { failure } from '../support/errorCodes.js';
import { herIdentity, startPair, type Pair, answerAsk } from '../support/agents.js';
import { openReply, sendAs } from '../support/disclosure.js';

const ADA = { name: 'Ada Lovelace', email: 'ada@example.org' };

describe('her right of access, answered by the company’s agent', () => {
  let pair: Pair;

  beforeEach(async () => {
    pair = await startPair({ personal: { retry: { baseDelayMs: 1, maxDelayMs: 5 } } });
    const { company, personal, link } = pair;
    personal.agent.profile.set(ADA);
    await answerAsk(personal, company, link, { fields: ['name', 'email'], purpose: 'Order confirmations', retention: 'P1Y' });
    await company.agent.sendMessage(link.companyRelationship.id, 'Welcome aboard');
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  const herId = () => pair.link.view.id;
  const relId = () => pair.link.companyRelationship.id;

  it('gives her a signed copy of every field, consent record and count it holds, kept in her vault, and records the request', async () => {
    const { company, personal } = pair;
    const receipt = await personal.agent.requestAccess(herId());
    expect(receipt.kind).toBe('access');
    const body = receipt.body as { request_id: string; exercise: string; status: string; received_at: string; data: Record<string, unknown> };
    expect(body).toMatchObject({ exercise: 'access', status: 'fulfilled' });

    const holdings = await company.agent.holdings(relId());
    expect(body.data['fields']).toEqual(
      holdings.fields.map((f) => ({ field: f.field, value: f.value, version: f.version, consent_record_id: f.consentRecordId, source: f.source, issuer: f.issuer, updated_at: new Date(f.updatedAt).toISOString() })),
    );
    expect((body.data['fields'] as { field: string }[]).map((f) => f.field)).toEqual(['email', 'name']);
    expect(body.data['consent_records']).toEqual(holdings.consentRecords.map((c) => c.record));
    expect(body.data['relationship']).toMatchObject({ customer_ref: pair.link.companyRelationship.customerRef, state: 'active' });
    expect(body.data['messages']).toBe((await company.store.listMessages(relId())).length);
    expect(body.data['service_cases']).toBe(0);

    // Signed by the company's DID: the JWS she keeps verifies with its key, and its payload is the answer.
    const key = await importJWK(company.identity.signing.publicJwk, 'EdDSA');
    const verified = await generalVerify(JSON.parse(receipt.jws), key);
    expect(JSON.parse(new TextDecoder().decode(verified.payload)).body).toEqual(body);
    // Kept in her vault with her receipts (and so in her export).
    expect(personal.agent.receipts(herId()).map((r) => r.kind)).toEqual(['access']);

    // The company's record, in Data Rights Protocol words, and its systems told.
    const response = await fetch(`${company.url}/admin/data-rights?relationship=${relId()}`, { headers: { authorization: `Bearer ${company.adminToken}` } });
    expect(await response.json()).toEqual({
      requests: [{ request_id: body.request_id, relationship_id: relId(), exercise: 'access', status: 'fulfilled', received_at: body.received_at, updated_at: body.received_at }],
    });
    const events = (await company.store.listEvents({ relationshipId: relId() })).filter((e) => e.type === 'data_rights.request');
    expect(events.map((e) => e.payload)).toEqual([{ relationshipId: relId(), customerRef: pair.link.companyRelationship.customerRef, requestId: body.request_id, exercise: 'access', status: 'fulfilled' }]);
  });

  it('answers a resent request again and records it once; past the daily limit it denies with too_many_requests', async () => {
    const { company, personal } = pair;
    const her = herIdentity(personal, herId());
    const requestId = randomUUID();
    for (let i = 0; i < 2; i++) {
      const { response } = await sendAs(her, company, DataRights.request.type, { request_id: requestId, exercise: 'access' });
      expect(response.status).toBe(200);
      expect((await openReply(response.text, her)).message.body).toMatchObject({ request_id: requestId, status: 'fulfilled' });
    }
    expect(await company.store.listDataRightsRequests({ relationshipId: relId() })).toHaveLength(1);

    for (let i = 1; i < ACCESS_REQUESTS_PER_DAY; i++) await personal.agent.requestAccess(herId());
    const denied = await personal.agent.requestAccess(herId());
    expect(denied.body).toMatchObject({ status: 'denied', reason: 'too_many_requests' });
    expect((denied.body as { data?: unknown }).data).toBeUndefined();
    const rows = await company.store.listDataRightsRequests({ relationshipId: relId() });
    expect(rows.map((r) => r.status).filter((s) => s === 'denied')).toEqual(['denied']);
  });

  it('refuses a malformed request with message.body_invalid, and nothing changes', async () => {
    const { company, personal } = pair;
    const her = herIdentity(personal, herId());
    const before = await company.snapshot();
    for (const body of [{ request_id: 'not-a-uuid', exercise: 'access' }, { request_id: randomUUID(), exercise: 'sale:opt_out' }, { exercise: 'access' }]) {
      const { response } = await sendAs(her, company, DataRights.request.type, body);
      expect({ status: response.status, code: response.json.error?.code }).toEqual({ status: 422, code: 'message.body_invalid' });
    }
    expect(await company.snapshot()).toEqual(before);
  });

  it('after a cut-off: her agent refuses to ask, the company refuses the old identity, and the deletion is on record', async () => {
    const { company, personal } = pair;
    const her = herIdentity(personal, herId());
    await personal.agent.cutOff(herId());
    const hers = personal.vault.snapshot();
    expect(await failure(() => personal.agent.requestAccess(herId()))).toMatchObject({ code: 'relationship.cut_off' });
    expect(personal.vault.snapshot()).toEqual(hers);

    const before = await company.snapshot();
    const { response } = await sendAs(her, company, DataRights.request.type, { request_id: randomUUID(), exercise: 'access' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await company.snapshot()).toEqual(before);
    expect((await company.store.listDataRightsRequests({ relationshipId: relId() })).map((r) => [r.exercise, r.status])).toEqual([['deletion', 'fulfilled']]);
  });
});

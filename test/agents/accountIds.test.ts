/**
 * Administrative identities (docs/protocol/account.md) between real agents over real HTTP on
 * loopback: the customer number of the connect response is her first identifier at the company;
 * the company adds a policy number later and she finds which company it is; bad lists (another
 * relationship's DID, malformed, from a cut-off relationship) and bad entries of hers are refused
 * with their codes and change nothing on either side.
 */
import { generalVerify, importJWK } from 'jose';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentEvent } from '../../src/personal/events.js';
import type { AccountIdView } from '../../src/personal/accountIds.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { systemClock } from '../../src/core/clock.js';
import { Account } from '../../src/protocol/families/index.js';
import { join } from 'node:path';
import { openExport, importVault } from '../../src/personal/vault/export.js';
import { connect, jsonApi, postEnvelopeRaw, startCompany, usePairEachTest, type CompanyHandle, type Pair } from '../support/agents.js';
import { packAs } from '../support/disclosure.js';

describe('administrative identities between the agents', () => {
  let pair: Pair;
  let events: AgentEvent[];
  let others: CompanyHandle[];
  const each = usePairEachTest();
  beforeEach(() => ({ pair, events, others } = each));

  const admin = jsonApi(() => pair.company.url, () => pair.company.adminToken);
  const herApi = jsonApi(() => pair.personal.url, () => pair.personal.token);
  const herIds = async (query = ''): Promise<AccountIdView[]> => (await herApi('GET', `/api/account-ids${query}`)).json['identifiers'] as AccountIdView[];
  const customerRef = () => pair.link.companyRelationship.customerRef;
  /** A list the company signs with its own keys, pushed to her route of `relationshipId` (default: the pair's). */
  const pushList = async (body: Record<string, unknown>, relationshipId = pair.link.view.id, from = pair.company) => {
    const message = buildMessage({ type: Account.identifiers.type, from: from.did, to: pair.personal.record(relationshipId).myDid, body }, systemClock);
    return postEnvelopeRaw(pair.personal.didcommUrl(relationshipId), await packAs(from.identity, message));
  };
  const policyList = (sequence: number, subject = pair.link.record.myDid) => ({
    subject,
    sequence,
    identifiers: [
      { kind: 'customer_number', value: customerRef(), issued_at: new Date().toISOString() },
      { kind: 'policy_number', value: '88-123', issued_at: new Date().toISOString() },
    ],
  });

  it('keeps the customer number of the connect response, signed by the company, as her first identifier there', async () => {
    const ids = await herIds();
    expect(ids).toEqual([
      expect.objectContaining({ relationshipId: pair.link.view.id, companyName: pair.company.name, kind: 'customer_number', value: customerRef(), source: 'company', sequence: 0, label: null }),
    ]);
    // The proof is the connect response's JWS as received: it verifies with the company's key and names her customer number.
    const stored = pair.personal.vault.accountIds.get(ids[0]!.id)!;
    const verified = await generalVerify(JSON.parse(stored.proof!.jws), await importJWK(pair.company.identity.signing.publicJwk, 'EdDSA'));
    const plaintext = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, any>;
    expect(plaintext).toMatchObject({ id: ids[0]!.proofMessageId, from: pair.company.did, to: [pair.link.record.myDid], body: { customer_ref: customerRef() } });
    expect((await admin('GET', `/admin/relationships/${customerRef()}/identifiers`)).json['identifiers']).toMatchObject({ sequence: 0, acknowledged: 0, identifiers: [{ kind: 'customer_number', value: customerRef() }] });
  });

  it('the company sets a policy number later; she finds "88 123" and learns which company and which kind; her ack reaches the company', async () => {
    const set = await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, { kind: 'policy_number', value: '88-123', label: 'Home insurance' });
    expect(set.status).toBe(201);
    expect(set.json['identifiers']).toMatchObject({ sequence: 1, delivered: true, identifiers: [{ kind: 'customer_number', value: customerRef() }, { kind: 'policy_number', value: '88-123', label: 'Home insurance' }] });
    expect(events).toContainEqual({ type: 'account.identifiers', relationshipId: pair.link.view.id, sequence: 1, count: 2 });

    // Another company, whose numbers must not come up.
    const other = await startCompany({ name: 'Babbage Mutual' });
    others.push(other);
    await connect(pair.personal, other);

    const found = await herApi('GET', `/api/account-ids/find?value=${encodeURIComponent('88 123')}`);
    expect(found.status).toBe(200);
    expect(found.json['identifiers']).toEqual([expect.objectContaining({ companyName: pair.company.name, kind: 'policy_number', value: '88-123', label: 'Home insurance', source: 'company', sequence: 1 })]);
    expect((await herApi('GET', '/api/account-ids/find?value=88-124')).json['identifiers']).toEqual([]);
    expect((await herApi('GET', '/api/account-ids/find?value=')).json).toMatchObject({ error: { code: 'api.bad_request' } });
    // Listed per relationship: the other company has only its own customer number.
    expect((await herIds(`?relationship=${encodeURIComponent('Babbage Mutual')}`)).map((i) => i.kind)).toEqual(['customer_number']);

    // Her ack is sent after her answer to the push: the company logs it beside the list.
    await vi.waitFor(async () => expect((await admin('GET', `/admin/relationships/${customerRef()}/identifiers`)).json['identifiers']).toMatchObject({ sequence: 1, acknowledged: 1 }), { timeout: 5_000 });

    // Relabelling replaces, it does not add; the list's number goes up.
    const relabelled = await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, { kind: 'policy_number', value: '88 123', label: 'Home and contents' });
    expect(relabelled.json['identifiers']).toMatchObject({ sequence: 2, identifiers: [{ kind: 'customer_number' }, { kind: 'policy_number', value: '88 123', label: 'Home and contents' }] });
    expect((await herIds(`?relationship=${pair.link.view.id}`)).map((i) => [i.kind, i.value, i.label, i.sequence])).toEqual([
      ['customer_number', customerRef(), null, 2],
      ['policy_number', '88 123', 'Home and contents', 2],
    ]);
  });

  it('her export keeps them, sealed, with the company’s proof; a restored vault finds the policy again', async () => {
    await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, { kind: 'policy_number', value: '88-123' });
    await herApi('POST', '/api/account-ids', { relationship: pair.link.view.id, kind: 'loyalty_number', value: 'LOY 7781' });
    const exported = await herApi('POST', '/api/export', { passphrase: 'export passphrase' });
    expect(exported.json['format']).toBe('jwe');
    const text = exported.json['text'] as string;
    expect(text).not.toContain('88-123');
    const document = await openExport(text, 'export passphrase');
    expect(document.accountIds.map((a) => [a.source, a.kind, a.value])).toEqual([
      ['company', 'customer_number', customerRef()],
      ['company', 'policy_number', '88-123'],
      ['her', 'loyalty_number', 'LOY 7781'],
    ]);
    const restored = importVault(join(pair.personal.dir, 'restored.db'), 'another passphrase', document, { kdf: { N: 2 ** 12 } });
    try {
      expect(restored.accountIds.find('88123').map((a) => [a.kind, a.relationshipId, a.proof?.jws])).toEqual([['policy_number', pair.link.view.id, pair.personal.vault.accountIds.find('88-123')[0]!.proof!.jws]]);
      expect(restored.accountIds.list()).toEqual(pair.personal.vault.accountIds.list());
    } finally {
      restored.close();
    }
  });

  it('refuses a list naming her DID on another relationship (account.wrong_subject), changing nothing on her side', async () => {
    const other = await startCompany({ name: 'Babbage Mutual' });
    others.push(other);
    const otherLink = await connect(pair.personal, other);
    const before = pair.personal.snapshot();
    // The company sends, on its own relationship, a list whose subject is her pairwise DID at the other company.
    const refused = await pushList(policyList(1, otherLink.record.myDid));
    expect(refused.status).toBe(422);
    expect(refused.json.error?.code).toBe('account.wrong_subject');
    // And the other company, a list naming her DID with the first company, on its own relationship.
    const fromOther = await pushList(policyList(1, pair.link.record.myDid), otherLink.view.id, other);
    expect(fromOther.json.error?.code).toBe('account.wrong_subject');
    expect(pair.personal.snapshot()).toEqual(before);
    expect(events.filter((e) => e.type === 'account.identifiers')).toEqual([]);
    // The same list naming her own DID is taken.
    expect((await pushList(policyList(1))).status).toBeLessThan(300);
    expect((await herIds(`?relationship=${pair.link.view.id}`)).map((i) => i.kind)).toEqual(['customer_number', 'policy_number']);
  });

  it('refuses malformed lists with message.body_invalid, and ignores an older list arriving late, changing nothing', async () => {
    expect((await pushList(policyList(2))).status).toBeLessThan(300);
    const before = pair.personal.snapshot();
    const base = policyList(3);
    const one = (identifier: Record<string, unknown>) => ({ ...base, identifiers: [{ kind: 'policy_number', value: '88-123', issued_at: new Date().toISOString(), ...identifier }] });
    for (const bad of [
      one({ kind: 'passport_number' }),
      one({ value: 'x'.repeat(101) }),
      one({ value: '88\u0007123' }),
      one({ value: '88\u202e321' }),
      one({ label: '' }),
      { ...base, identifiers: [] },
      { ...base, identifiers: Array.from({ length: 21 }, (_, n) => ({ kind: 'other', value: `V-${n}`, issued_at: new Date().toISOString() })) },
      { ...base, sequence: 0 },
    ]) {
      const refused = await pushList(bad);
      expect(refused.json.error?.code, JSON.stringify(bad).slice(0, 120)).toBe('message.body_invalid');
    }
    expect(pair.personal.snapshot()).toEqual(before);

    // List 1 arriving after list 2: acknowledged, stored nothing but its message id.
    const late = await pushList({ ...policyList(1), identifiers: [{ kind: 'customer_number', value: 'C-OLD', issued_at: new Date().toISOString() }] });
    expect(late.status).toBeLessThan(300);
    const after = pair.personal.snapshot();
    expect(after['account_ids']).toEqual(before['account_ids']);
    expect((await herIds()).some((i) => i.value === 'C-OLD')).toBe(false);
  });

  it('keeps a muted company’s list without a notice, and refuses one after she cut the company off', async () => {
    expect((await herApi('POST', `/api/relationships/${pair.link.view.id}/mute`)).status).toBe(200);
    expect((await pushList(policyList(1))).status).toBeLessThan(300);
    expect((await herIds()).map((i) => i.value)).toContain('88-123');
    expect(events.filter((e) => e.type === 'account.identifiers')).toEqual([]);

    expect((await herApi('POST', `/api/relationships/${pair.link.view.id}/cutoff`)).status).toBe(200);
    const before = pair.personal.snapshot();
    const refused = await pushList(policyList(2));
    expect(refused.json.error?.code).toBe('relationship.cut_off');
    expect(pair.personal.snapshot()).toEqual(before);
    // What the company knew her by stays hers to look up.
    expect((await herApi('GET', '/api/account-ids/find?value=88123')).json['identifiers']).toEqual([expect.objectContaining({ relationshipState: 'cut_off', kind: 'policy_number' })]);
    // The company cannot send to a cut-off relationship either.
    const companyBefore = await pair.company.snapshot();
    expect((await admin('POST', `/admin/relationships/${pair.link.companyRelationship.id}/identifiers`, { kind: 'policy_number', value: '1' })).json).toMatchObject({ error: { code: 'relationship.cut_off' } });
    expect(await pair.company.snapshot()).toEqual(companyBefore);
  });

  it('her own entries: added and marked as hers, found, removed; bad ones refused with their codes, changing nothing', async () => {
    const added = await herApi('POST', '/api/account-ids', { relationship: pair.link.view.id, kind: 'loyalty_number', value: 'LOY 7781', label: 'Card' });
    expect(added.status).toBe(201);
    expect(added.json['identifier']).toMatchObject({ source: 'her', kind: 'loyalty_number', value: 'LOY 7781', label: 'Card', sequence: null, proofMessageId: null, companyName: pair.company.name });
    expect((await herApi('GET', '/api/account-ids/find?value=loy-7781')).json['identifiers']).toEqual([expect.objectContaining({ id: added.json['identifier'].id })]);

    const before = pair.personal.snapshot();
    const refusals: [unknown, number, string][] = [
      [{ relationship: 'no-such-company', kind: 'other', value: 'x' }, 404, 'relationship.unknown'],
      [{ relationship: pair.link.view.id, kind: 'passport_number', value: 'x' }, 400, 'api.bad_request'],
      [{ relationship: pair.link.view.id, kind: 'other', value: 'x'.repeat(101) }, 400, 'api.bad_request'],
      [{ relationship: pair.link.view.id, kind: 'other', value: 'a\u001b[2Jb' }, 400, 'api.bad_request'],
      [{ relationship: pair.link.view.id, kind: 'other', value: 'x', extra: 1 }, 400, 'api.bad_request'],
      [{ relationship: pair.link.view.id, kind: 'loyalty_number', value: 'loy-7781' }, 409, 'account.exists'],
      [{ relationship: pair.link.view.id, kind: 'customer_number', value: customerRef().toLowerCase() }, 409, 'account.exists'],
    ];
    for (const [body, status, code] of refusals) {
      const refused = await herApi('POST', '/api/account-ids', body);
      expect([refused.status, refused.json['error']?.code], JSON.stringify(body)).toEqual([status, code]);
    }
    const companyIssued = (await herIds()).find((i) => i.source === 'company')!;
    expect((await herApi('POST', `/api/account-ids/${companyIssued.id}/remove`)).json).toMatchObject({ error: { code: 'account.company_issued' } });
    expect((await herApi('POST', '/api/account-ids/00000000-0000-4000-8000-000000000000/remove')).json).toMatchObject({ error: { code: 'account.unknown' } });
    expect(pair.personal.snapshot()).toEqual(before);

    const removed = await herApi('POST', `/api/account-ids/${added.json['identifier'].id}/remove`);
    expect(removed.json['identifier']).toMatchObject({ value: 'LOY 7781' });
    expect((await herIds()).map((i) => i.source)).toEqual(['company']);
  });

  it('the company refuses bad identifiers with api.bad_request naming the field, sending nothing', async () => {
    const before = await pair.company.snapshot();
    for (const body of [{ kind: 'passport_number', value: '1' }, { kind: 'policy_number', value: '' }, { kind: 'policy_number', value: 'x'.repeat(101) }, { kind: 'policy_number', value: '1\n2' }, { kind: 'policy_number' }]) {
      const refused = await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, body);
      expect([refused.status, refused.json['error']?.code], JSON.stringify(body)).toEqual([400, 'api.bad_request']);
    }
    // A 21st identifier: the list would be too long.
    for (let n = 1; n < 20; n++) expect((await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, { kind: 'other', value: `V-${n}` })).status).toBe(201);
    const full = await pair.company.snapshot();
    expect((await admin('POST', `/admin/relationships/${customerRef()}/identifiers`, { kind: 'other', value: 'V-20' })).json).toMatchObject({ error: { code: 'api.bad_request' } });
    expect(await pair.company.snapshot()).toEqual(full);
    expect(Object.keys(before)).toEqual(Object.keys(full));
    expect((await admin('GET', `/admin/relationships/no-such/identifiers`)).json).toMatchObject({ error: { code: 'relationship.unknown' } });
  });
});

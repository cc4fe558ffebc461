/**
 * Service cases (docs/protocol/service.md) between real agents over real HTTP on loopback: she
 * opens a case about her fridge under warranty, sharing the details she picks and her policy
 * number; the company lists it with those details only, answers, she sees it answered and writes
 * back, the company resolves it. Bad input (a muted or cut-off company, one not linked to the
 * thing, an unknown case or another relationship's, a malformed message, a resolved case) is
 * refused with its code and changes nothing on either side.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import type { AgentEvent } from '../../src/personal/events.js';
import type { ServiceCaseView } from '../../src/personal/serviceCases.js';
import { buildMessage } from '../../src/protocol/buildMessage.js';
import { Service } from '../../src/protocol/families/index.js';
import { connect, herIdentity, jsonApi, postEnvelopeRaw, startCompany, usePairEachTest, type CompanyHandle, type Link, type Pair } from '../support/agents.js';
import { packAs, sendAs } from '../support/disclosure.js';

const monthsAgo = (n: number) => {
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString().slice(0, 10);
};

describe('service cases between the agents', () => {
  let pair: Pair;
  let events: AgentEvent[];
  let others: CompanyHandle[];
  const each = usePairEachTest();
  beforeEach(() => ({ pair, events, others } = each));

  const admin = jsonApi(() => pair.company.url, () => pair.company.adminToken);
  const herApi = jsonApi(() => pair.personal.url, () => pair.personal.token);

  /** Her fridge, bought two months ago with a two-year warranty, sold by `seller` (default: the pair's company). */
  async function addFridge(links: { relationship: string; role: string }[] = [{ relationship: pair.link.view.id, role: 'seller' }], warrantyStart = monthsAgo(2)): Promise<string> {
    const added = await herApi('POST', '/api/things', {
      name: 'Fridge',
      brand: 'Coolco',
      model: 'CF-300',
      serialNumber: 'SN-20260315-0042',
      purchaseDate: warrantyStart,
      price: { amount: '899.00', currency: 'EUR' },
      notes: 'The door squeaks, kept to myself',
      contracts: [{ kind: 'warranty', start: warrantyStart, duration: 'P2Y' }],
      links,
    });
    expect(added.status).toBe(201);
    return added.json['thing'].id as string;
  }

  async function openCase(thingId: string, body: Record<string, unknown>): Promise<ServiceCaseView> {
    const opened = await herApi('POST', `/api/things/${thingId}/cases`, body);
    expect(opened.status, JSON.stringify(opened.json)).toBe(201);
    return opened.json['case'] as ServiceCaseView;
  }

  it('she opens a warranty claim with the details she picks; the company lists it, answers, she sees it answered, writes back, and the company resolves it', async () => {
    await admin('POST', `/admin/relationships/${pair.link.companyRelationship.customerRef}/identifiers`, { kind: 'policy_number', value: '88-123', label: 'Home insurance' });
    const fridge = await addFridge();

    const opened = await openCase(fridge, { text: 'The freezer no longer gets below -5 °C.', share: ['serial', 'model', 'purchaseDate'], identifier: '88 123' });
    expect(opened).toMatchObject({
      thingId: fridge,
      relationshipId: pair.link.view.id,
      companyName: pair.company.name,
      state: 'open',
      warrantyClaim: true,
      shared: { serialNumber: 'SN-20260315-0042', model: 'CF-300', purchaseDate: monthsAgo(2) },
      identifier: { kind: 'policy_number', value: '88-123', label: 'Home insurance' },
    });
    expect(Object.keys(opened.shared).sort()).toEqual(['model', 'purchaseDate', 'serialNumber']);
    expect(events).toContainEqual({ type: 'service.case_updated', caseId: opened.id, relationshipId: pair.link.view.id, thingId: fridge, state: 'open', by: 'her' });

    // The company sees the case with exactly what she shared: not the brand, the price or her notes.
    const listed = await admin('GET', '/admin/cases?state=open');
    expect(listed.status).toBe(200);
    expect(listed.json['cases']).toEqual([
      expect.objectContaining({ caseId: opened.id, customerRef: pair.link.companyRelationship.customerRef, state: 'open', warrantyClaim: true, thing: { serialNumber: 'SN-20260315-0042', model: 'CF-300', purchaseDate: monthsAgo(2) }, identifier: { kind: 'policy_number', value: '88-123', label: 'Home insurance' } }),
    ]);
    const companyCase = listed.json['cases'][0] as { id: string };
    expect(JSON.stringify(await pair.company.snapshot())).not.toContain('Coolco');
    expect(JSON.stringify(await pair.company.snapshot())).not.toContain('squeaks');
    // Its systems are told.
    const companyEvents = (await admin('GET', '/admin/events?limit=100')).json['events'] as { type: string; payload: Record<string, unknown> }[];
    expect(companyEvents.filter((e) => e.type === 'service_case.opened')).toEqual([
      expect.objectContaining({ payload: { relationshipId: pair.link.companyRelationship.id, customerRef: pair.link.companyRelationship.customerRef, caseId: companyCase.id, warrantyClaim: true } }),
    ]);

    const answered = await admin('POST', `/admin/cases/${companyCase.id}/replies`, { text: 'A technician comes on Monday, 9 to 12.' });
    expect(answered.status).toBe(201);
    expect(answered.json).toMatchObject({ delivered: true, case: { state: 'answered', thread: [{ author: 'person', kind: 'open' }, { author: 'company', kind: 'reply', text: 'A technician comes on Monday, 9 to 12.' }] } });
    const hers = (await herApi('GET', `/api/cases/${opened.id}`)).json['case'] as ServiceCaseView;
    expect(hers.state).toBe('answered');
    expect(hers.thread.map((e) => [e.author, e.kind, e.text])).toEqual([
      ['her', 'open', 'The freezer no longer gets below -5 °C.'],
      ['company', 'reply', 'A technician comes on Monday, 9 to 12.'],
    ]);
    expect(events).toContainEqual({ type: 'service.case_updated', caseId: opened.id, relationshipId: pair.link.view.id, thingId: fridge, state: 'answered', by: 'company' });

    const wrote = await herApi('POST', `/api/cases/${opened.id.slice(0, 8)}/replies`, { text: 'Monday suits me.' });
    expect(wrote.status).toBe(200);
    expect(wrote.json['case']).toMatchObject({ state: 'open' });
    expect((await admin('GET', `/admin/cases/${companyCase.id}`)).json['case']).toMatchObject({ state: 'open', thread: [{ kind: 'open' }, { kind: 'reply', author: 'company' }, { kind: 'reply', author: 'person', text: 'Monday suits me.' }] });

    // The call-center console shows the case on her customer page, with what she shared and the thread.
    const login = await fetch(`${pair.company.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: pair.company.url },
      body: new URLSearchParams({ name: 'Sam Operator', token: pair.company.adminToken }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const customerPage = await (await fetch(`${pair.company.url}/console/customers/${pair.link.companyRelationship.id}`, { headers: { cookie } })).text();
    expect(customerPage).toContain('Service cases');
    expect(customerPage).toContain(`${companyCase.id}</span> · open · warranty claim`);
    expect(customerPage).toContain('SN-20260315-0042');
    expect(customerPage).toContain('Monday suits me.');
    expect(customerPage).not.toContain('squeaks');

    const resolved = await admin('POST', `/admin/cases/${companyCase.id}/resolve`, { text: 'Thermostat replaced under warranty.' });
    expect(resolved.status).toBe(200);
    expect((await herApi('GET', `/api/things/${fridge}/cases`)).json['cases']).toEqual([expect.objectContaining({ id: opened.id, state: 'resolved' })]);
    expect((await admin('GET', '/admin/cases?state=open')).json['cases']).toEqual([]);
    expect((await admin('GET', '/admin/cases?state=resolved')).json['cases']).toHaveLength(1);

    // Both logs name the case by ids and states, never by what she or the company wrote or shared.
    for (const path of [pair.company.logPath, pair.personal.logPath]) {
      const log = readFileSync(path, 'utf8');
      expect(log).toContain('service_case_opened');
      for (const value of ['SN-20260315-0042', 'CF-300', '88-123', 'freezer', 'technician', 'Monday', 'Thermostat']) expect(log, `${path}: ${value}`).not.toContain(value);
    }
  });

  it('the admin API refuses a bad text, an unknown case and a bad state filter, changing nothing', async () => {
    const fridge = await addFridge();
    await openCase(fridge, { text: 'Warm.' });
    const [companyCase] = (await admin('GET', '/admin/cases')).json['cases'] as { id: string }[];
    const before = await pair.company.snapshot();
    const herBefore = pair.personal.snapshot();
    for (const [method, path, body, code, status] of [
      ['POST', `/admin/cases/${companyCase!.id}/replies`, { text: '' }, 'api.bad_request', 400],
      ['POST', `/admin/cases/${companyCase!.id}/replies`, { text: 'x', extra: 1 }, 'api.bad_request', 400],
      ['POST', '/admin/cases/00000000-0000-4000-8000-00000000dead/replies', { text: 'Hello' }, 'service.unknown_case', 404],
      ['POST', '/admin/cases/00000000-0000-4000-8000-00000000dead/resolve', {}, 'service.unknown_case', 404],
      ['GET', '/admin/cases/00000000-0000-4000-8000-00000000dead', undefined, 'service.unknown_case', 404],
      ['GET', '/admin/cases?state=closed', undefined, 'api.bad_request', 400],
    ] as const) {
      const answer = await admin(method, path, body);
      expect([answer.status, answer.json['error']?.code], `${method} ${path}`).toEqual([status, code]);
    }
    expect(await pair.company.snapshot()).toEqual(before);
    expect(pair.personal.snapshot()).toEqual(herBefore);
  });

  it('is no warranty claim once the warranty is over, and goes to the servicer before the maker and the seller', async () => {
    const servicer = await startCompany({ name: 'Fixit Services' });
    others.push(servicer);
    const link = await connect(pair.personal, servicer);
    const fridge = await addFridge(
      [
        { relationship: pair.link.view.id, role: 'seller' },
        { relationship: link.view.id, role: 'servicer' },
      ],
      '2020-01-01',
    );
    const opened = await openCase(fridge, { text: 'Noisy compressor.' });
    expect(opened).toMatchObject({ relationshipId: link.view.id, warrantyClaim: false, shared: {}, identifier: null });
    expect(await servicer.store.listServiceCases()).toHaveLength(1);
    expect(await pair.company.store.listServiceCases()).toEqual([]);
    // With --with she picks the seller instead.
    const toSeller = await openCase(fridge, { text: 'And the light.', with: pair.company.name, share: ['name'] });
    expect(toSeller).toMatchObject({ relationshipId: pair.link.view.id, shared: { name: 'Fridge' } });
    // Her access request counts the cases the company holds.
    const access = await pair.personal.agent.requestAccess(pair.link.view.id);
    expect((access.body as { data: { service_cases: number } }).data.service_cases).toBe(1);
  });

  describe('bad input changes nothing', () => {
    async function refusedLocally(path: string, body: unknown, code: string, status: number): Promise<void> {
      const before = pair.personal.snapshot();
      const companyBefore = await pair.company.snapshot();
      const answer = await herApi('POST', path, body);
      expect(answer.json['error']?.code, JSON.stringify(answer.json)).toBe(code);
      expect(answer.status).toBe(status);
      expect(pair.personal.snapshot()).toEqual(before);
      expect(await pair.company.snapshot()).toEqual(companyBefore);
    }

    it('a case on a muted company, a company not linked to the thing, a thing nobody supports, details it does not have', async () => {
      const fridge = await addFridge();
      const other = await startCompany({ name: 'Babbage Mutual' });
      others.push(other);
      await connect(pair.personal, other);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.', with: 'Babbage Mutual' }, 'service.not_linked', 409);
      const lonely = (await herApi('POST', '/api/things', { name: 'Toaster' })).json['thing'].id as string;
      await refusedLocally(`/api/things/${lonely}/cases`, { text: 'Burns toast.' }, 'service.no_supporter', 409);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.', share: ['gtin'] }, 'service.invalid', 400);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.', share: ['notes'] }, 'service.invalid', 400);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: '   ' }, 'service.invalid', 400);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.', identifier: 'NOPE-1' }, 'account.unknown', 404);
      expect((await herApi('POST', `/api/relationships/${pair.link.view.id}/mute`)).status).toBe(200);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.' }, 'relationship.not_active', 409);
    });

    it('a case on a cut-off company', async () => {
      const fridge = await addFridge();
      expect((await herApi('POST', `/api/relationships/${pair.link.view.id}/cutoff`)).status).toBe(200);
      await refusedLocally(`/api/things/${fridge}/cases`, { text: 'Warm.' }, 'relationship.cut_off', 410);
    });

    it('a reply to an unknown case or to another relationship’s case, either way', async () => {
      const fridge = await addFridge();
      const opened = await openCase(fridge, { text: 'Warm.' });
      await refusedLocally('/api/cases/00000000-0000-4000-8000-00000000dead/replies', { text: 'Hello?' }, 'service.unknown_case', 404);

      // Her second relationship with the same company names the first one's case: the company refuses.
      const second: Link = await connect(pair.personal, pair.company);
      const companyBefore = await pair.company.snapshot();
      const crossed = await sendAs(herIdentity(pair.personal, second.view.id), pair.company, Service.caseReply.type, { case_id: opened.id, text: 'Not mine to write.' });
      expect(crossed.response.json.error?.code).toBe('service.unknown_case');
      expect(crossed.response.status).toBe(404);
      expect(await pair.company.snapshot()).toEqual(companyBefore);

      // The company writes to a case she does not have on this relationship: she refuses.
      const herBefore = pair.personal.snapshot();
      for (const [relationshipId, caseId] of [
        [pair.link.view.id, '00000000-0000-4000-8000-00000000dead'],
        [second.view.id, opened.id],
      ] as const) {
        const message = buildMessage({ type: Service.caseReply.type, from: pair.company.did, to: pair.personal.record(relationshipId).myDid, body: { case_id: caseId, text: 'Hello' } }, systemClock);
        const pushed = await postEnvelopeRaw(pair.personal.didcommUrl(relationshipId), await packAs(pair.company.identity, message));
        expect(pushed.json.error?.code).toBe('service.unknown_case');
      }
      expect(pair.personal.snapshot()).toEqual(herBefore);
    });

    it('a malformed case message, either way', async () => {
      const fridge = await addFridge();
      const opened = await openCase(fridge, { text: 'Warm.' });
      const companyBefore = await pair.company.snapshot();
      const her = herIdentity(pair.personal, pair.link.view.id);
      for (const body of [
        { case_id: '00000000-0000-4000-8000-00000000beef', thing: { notes: 'private' }, text: 'Warm.', warranty_claim: false },
        { case_id: 'not-a-uuid', thing: {}, text: 'Warm.', warranty_claim: false },
        { case_id: '00000000-0000-4000-8000-00000000beef', thing: {}, text: '', warranty_claim: false },
        { case_id: '00000000-0000-4000-8000-00000000beef', thing: {}, text: 'Warm.' },
      ]) {
        const sent = await sendAs(her, pair.company, Service.caseOpen.type, body);
        expect(sent.response.json.error?.code, JSON.stringify(body)).toBe('message.body_invalid');
      }
      expect(await pair.company.snapshot()).toEqual(companyBefore);

      const herBefore = pair.personal.snapshot();
      const message = buildMessage({ type: Service.caseReply.type, from: pair.company.did, to: pair.link.record.myDid, body: { case_id: opened.id, text: 'x'.repeat(8001) } }, systemClock);
      const pushed = await postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), await packAs(pair.company.identity, message));
      expect(pushed.json.error?.code).toBe('message.body_invalid');
      expect(pair.personal.snapshot()).toEqual(herBefore);
    });

    it('a reply to a resolved case, from her, from the company, or as a crafted message', async () => {
      const fridge = await addFridge();
      const opened = await openCase(fridge, { text: 'Warm.' });
      const resolved = await herApi('POST', `/api/cases/${opened.id}/resolve`, { text: 'It works again.' });
      expect(resolved.json['case']).toMatchObject({ state: 'resolved' });
      const companyCase = (await pair.company.agent.serviceCases.list())[0]!;
      expect(companyCase.state).toBe('resolved');

      await refusedLocally(`/api/cases/${opened.id}/replies`, { text: 'One more thing.' }, 'service.case_resolved', 409);
      await refusedLocally(`/api/cases/${opened.id}/resolve`, {}, 'service.case_resolved', 409);
      const companyBefore = await pair.company.snapshot();
      const herBefore = pair.personal.snapshot();
      const adminReply = await admin('POST', `/admin/cases/${companyCase.id}/replies`, { text: 'Anything else?' });
      expect(adminReply.status).toBe(409);
      expect(adminReply.json['error'].code).toBe('service.case_resolved');
      const crafted = await sendAs(herIdentity(pair.personal, pair.link.view.id), pair.company, Service.caseReply.type, { case_id: opened.id, text: 'Again.' });
      expect(crafted.response.json.error?.code).toBe('service.case_resolved');
      const message = buildMessage({ type: Service.caseReply.type, from: pair.company.did, to: pair.link.record.myDid, body: { case_id: opened.id, text: 'Anything else?' } }, systemClock);
      const pushed = await postEnvelopeRaw(pair.personal.didcommUrl(pair.link.view.id), await packAs(pair.company.identity, message));
      expect(pushed.json.error?.code).toBe('service.case_resolved');
      expect(await pair.company.snapshot()).toEqual(companyBefore);
      expect(pair.personal.snapshot()).toEqual(herBefore);
    });
  });
});

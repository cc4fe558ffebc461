import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { silentLogger } from '../core/log.js';
import { newToken } from '../core/ids.js';
import { SAMPLE_FILES } from '../../test/support/sampleFiles.js';
import { createPersonalAgent, type PersonalAgent } from './createPersonalAgent.js';
import type { AgentEvent } from './events.js';
import { createLocalApi } from './http/localApi.js';
import type { ThingView } from './things.js';
import type { RelationshipRecord } from './vault/relationshipRepo.js';
import { Vault } from './vault/vault.js';

const PORT = 7411;
const token = newToken();
let dir: string;
let vault: Vault;
let clock: ManualClock;
let agent: PersonalAgent;
let app: ReturnType<typeof createLocalApi>;
let maker: RelationshipRecord;
let shop: RelationshipRecord;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kith-things-'));
  clock = new ManualClock(Date.parse('2026-12-04T12:00:00Z'));
  vault = Vault.create(join(dir, 'vault.db'), 'pw', { kdf: { N: 2 ** 12 }, clock, attachmentLimits: { maxFileBytes: 1024, maxTotalBytes: 1536 } });
  const base = { theirEndpoint: null, customerRef: null, invitationId: null };
  maker = vault.relationships.insert({ ...base, theirDid: 'did:web:coolco.example', vendorName: 'Coolco', myDid: 'did:peer:2.a', routeToken: 'ra' });
  shop = vault.relationships.insert({ ...base, theirDid: 'did:web:shop.example', vendorName: 'Corner Shop', myDid: 'did:peer:2.b', routeToken: 'rb' });
  agent = createPersonalAgent({ vault, clock, inboundBaseUrl: () => `http://127.0.0.1:${PORT}`, logger: silentLogger });
  app = createLocalApi({ agent, token, port: () => PORT, maxMessageBytes: 256 * 1024, logger: silentLogger });
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  json: { error?: { code?: string } } & Record<string, unknown>;
  headers: Headers;
  bytes: Buffer;
}

async function call(method: string, url: string, body?: unknown): Promise<Answer> {
  const headers = { host: `127.0.0.1:${PORT}`, authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await app.request(url, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const bytes = Buffer.from(await response.arrayBuffer());
  const json = (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(bytes.toString('utf8')) : {};
  return { status: response.status, json, headers: response.headers, bytes };
}

const fridge = {
  name: 'Fridge',
  brand: 'Coolco',
  model: 'CF-300',
  gtin: '4006381333931',
  serialNumber: 'SN-1234',
  purchaseDate: '2025-01-20',
  price: { amount: '899.00', currency: 'EUR' },
  contracts: [{ kind: 'warranty', start: '2025-01-20', duration: 'P2Y', provider: 'Coolco' }],
  links: [{ relationship: 'Coolco', role: 'maker' }, { relationship: 'Corner Shop', role: 'seller' }],
};

async function addFridge(): Promise<ThingView> {
  const added = await call('POST', '/api/things', fridge);
  expect(added.status).toBe(201);
  return added.json['thing'] as ThingView;
}

const attach = (id: string, kind: string, fileName: string, contentType: string, bytes: Buffer) =>
  call('POST', `/api/things/${id}/attachments`, { kind, fileName, contentType, data: bytes.toString('base64') });

describe('her things over the local API', () => {
  it('adds a thing with its contract and companies, shows it by id prefix, edits and removes it', async () => {
    const thing = await addFridge();
    expect(thing).toMatchObject({ name: 'Fridge', gtin: '4006381333931', warranty: 'ending' });
    expect(thing.contracts[0]).toMatchObject({ end: '2027-01-19', status: 'ending', daysLeft: 46 });
    expect(thing.links).toEqual([
      { relationshipId: maker.id, role: 'maker', companyName: 'Coolco' },
      { relationshipId: shop.id, role: 'seller', companyName: 'Corner Shop' },
    ]);
    expect((await call('GET', `/api/things/${thing.id.slice(0, 8)}`)).json['thing']).toEqual(thing);
    expect((await call('GET', '/api/things')).json['things']).toEqual([thing]);

    clock.advance(1000);
    const edited = await call('PUT', `/api/things/${thing.id}`, { location: 'Kitchen', serialNumber: null, links: [{ relationship: 'Coolco', role: 'servicer' }] });
    expect(edited.status).toBe(200);
    expect(edited.json['thing']).toMatchObject({ location: 'Kitchen', links: [{ role: 'servicer' }] });
    expect(edited.json['thing']).not.toHaveProperty('serialNumber');

    expect((await call('POST', `/api/things/${thing.id}/remove`)).json).toEqual({ removed: true });
    expect((await call('GET', `/api/things/${thing.id}`)).json.error?.code).toBe('thing.unknown');
  });

  it('keeps a document and serves it back as an attachment with its checked type, never sniffed', async () => {
    const thing = await addFridge();
    const added = await attach(thing.id, 'receipt', 'Quittung "März".pdf', 'application/pdf', SAMPLE_FILES.pdf);
    expect(added.status).toBe(201);
    const attachment = added.json['attachment'] as { id: string };
    const download = await call('GET', `/api/things/${thing.id}/attachments/${attachment.id}`);
    expect(download.status).toBe(200);
    expect(download.bytes).toEqual(SAMPLE_FILES.pdf);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="Quittung _M_rz_.pdf"; filename*=UTF-8''Quittung%20%22M%C3%A4rz%22.pdf`);
    expect(((await call('GET', `/api/things/${thing.id}`)).json['thing'] as ThingView).attachments).toMatchObject([{ kind: 'receipt', size: SAMPLE_FILES.pdf.length }]);
    expect((await call('POST', `/api/things/${thing.id}/attachments/${attachment.id}/remove`)).json).toEqual({ removed: true });
    expect((await call('GET', `/api/things/${thing.id}/attachments/${attachment.id}`)).json.error?.code).toBe('thing.attachment_unknown');
  });

  it('refuses bad input with its own code and changes nothing', async () => {
    const thing = await addFridge();
    await attach(thing.id, 'photo', 'front.jpg', 'image/jpeg', Buffer.concat([SAMPLE_FILES.jpeg, Buffer.alloc(900)]));
    const before = vault.snapshot();
    const cases: [string, () => Promise<Answer>, number, string][] = [
      ['bad GTIN', () => call('POST', '/api/things', { ...fridge, gtin: '4006381333932' }), 400, 'thing.invalid'],
      ['negative price', () => call('POST', '/api/things', { ...fridge, price: { amount: '-899.00', currency: 'EUR' } }), 400, 'thing.invalid'],
      ['unknown currency', () => call('POST', '/api/things', { ...fridge, price: { amount: '899.00', currency: 'EUX' } }), 400, 'thing.invalid'],
      ['bad duration', () => call('POST', '/api/things', { ...fridge, contracts: [{ kind: 'warranty', start: '2025-01-20', duration: '2 years' }] }), 400, 'thing.invalid'],
      ['unknown role', () => call('POST', '/api/things', { ...fridge, links: [{ relationship: 'Coolco', role: 'owner' }] }), 400, 'thing.invalid'],
      ['unknown relationship', () => call('POST', '/api/things', { ...fridge, links: [{ relationship: 'Nobody Inc', role: 'maker' }] }), 404, 'relationship.unknown'],
      ['not JSON', () => call('POST', '/api/things', '{"name":'), 400, 'thing.invalid'],
      ['empty edit', () => call('PUT', `/api/things/${thing.id}`, {}), 400, 'thing.invalid'],
      ['edit with bad GTIN', () => call('PUT', `/api/things/${thing.id}`, { gtin: '123' }), 400, 'thing.invalid'],
      ['unknown thing', () => call('GET', '/api/things/00000000-0000-4000-8000-00000000dead'), 404, 'thing.unknown'],
      ['edit of an unknown thing', () => call('PUT', '/api/things/00000000-0000-4000-8000-00000000dead', { location: 'x' }), 404, 'thing.unknown'],
      ['removal of an unknown thing', () => call('POST', '/api/things/00000000-0000-4000-8000-00000000dead/remove'), 404, 'thing.unknown'],
      ['document for an unknown thing', () => attach('00000000-0000-4000-8000-00000000dead', 'receipt', 'r.pdf', 'application/pdf', SAMPLE_FILES.pdf), 404, 'thing.unknown'],
      ['a PDF that is not a PDF', () => attach(thing.id, 'receipt', 'r.pdf', 'application/pdf', SAMPLE_FILES.html), 422, 'thing.attachment_type_mismatch'],
      ['a JPEG that is a PNG', () => attach(thing.id, 'photo', 'p.jpg', 'image/jpeg', SAMPLE_FILES.png), 422, 'thing.attachment_type_mismatch'],
      ['HTML', () => attach(thing.id, 'other', 'x.html', 'text/html', SAMPLE_FILES.html), 422, 'thing.attachment_type_unsupported'],
      ['too large a file', () => attach(thing.id, 'manual', 'm.pdf', 'application/pdf', Buffer.concat([SAMPLE_FILES.pdf, Buffer.alloc(1024)])), 413, 'thing.attachment_too_large'],
      ['far too large a body', () => attach(thing.id, 'manual', 'm.pdf', 'application/pdf', Buffer.concat([SAMPLE_FILES.pdf, Buffer.alloc(8192)])), 413, 'thing.attachment_too_large'],
      ['no room left', () => attach(thing.id, 'manual', 'm.pdf', 'application/pdf', Buffer.concat([SAMPLE_FILES.pdf, Buffer.alloc(700)])), 413, 'thing.attachments_full'],
      ['unknown kind', () => attach(thing.id, 'invoice', 'r.pdf', 'application/pdf', SAMPLE_FILES.pdf), 400, 'thing.invalid'],
      ['a path for a file name', () => attach(thing.id, 'receipt', '../r.pdf', 'application/pdf', SAMPLE_FILES.pdf), 400, 'thing.invalid'],
      ['unknown document', () => call('GET', `/api/things/${thing.id}/attachments/00000000-0000-4000-8000-00000000dead`), 404, 'thing.attachment_unknown'],
      ['bad due window', () => call('GET', '/api/things/due?within=soon'), 400, 'api.bad_request'],
      ['bad inventory format', () => call('GET', '/api/things/inventory?format=xlsx'), 400, 'api.bad_request'],
    ];
    for (const [name, run, status, code] of cases) {
      const answer = await run();
      expect({ name, status: answer.status, code: answer.json.error?.code }).toEqual({ name, status, code });
    }
    expect(vault.snapshot()).toEqual(before);
  });

  it('lists again what changed since the last list: a document, an edit, the day', async () => {
    const thing = await addFridge();
    const list = async () => (await call('GET', '/api/things')).json['things'] as ThingView[];
    expect((await list())[0]).toMatchObject({ warranty: 'ending', attachments: [] });
    await attach(thing.id, 'receipt', 'r.pdf', 'application/pdf', SAMPLE_FILES.pdf);
    expect((await list())[0]?.attachments).toHaveLength(1);
    await call('PUT', `/api/things/${thing.id}`, { location: 'Garage' });
    expect((await list())[0]?.location).toBe('Garage');
    vault.relationships.update(maker.id, { vendorName: 'Coolco AG' });
    expect((await list())[0]?.links[0]?.companyName).toBe('Coolco AG');
    clock.advance(60 * 86_400_000);
    expect((await list())[0]).toMatchObject({ warranty: 'ended' });
  });

  it('lists contracts ending soon and reminds her once per contract and threshold', async () => {
    const thing = await addFridge();
    await call('POST', '/api/things', { name: 'Bike', contracts: [{ kind: 'service', start: '2026-01-01', duration: 'P1Y' }] });
    const events: AgentEvent[] = [];
    agent.events.on((e) => events.push(e));

    expect(((await call('GET', '/api/things/due?within=30')).json['due'] as unknown[]).length).toBe(1);
    const due = (await call('GET', '/api/things/due')).json['due'] as { thingName: string; contract: { daysLeft: number } }[];
    expect(due.map((d) => [d.thingName, d.contract.daysLeft])).toEqual([
      ['Bike', 27],
      ['Fridge', 46],
    ]);

    // First pass: the bike's contract crossed 60 and 30 at once (one event), the fridge's 60.
    expect(agent.things.remind()).toBe(2);
    expect(agent.things.remind()).toBe(0);
    expect(events.filter((e) => e.type === 'thing.warranty_ending').map((e) => e.type === 'thing.warranty_ending' && [e.thingId === thing.id, e.threshold, e.daysLeft])).toEqual([
      [true, 60, 46],
      [false, 30, 27],
    ]);
    clock.advance(20 * 86_400_000);
    expect(agent.things.remind()).toBe(2); // the fridge at 30, the bike at 7
    clock.advance(86_400_000);
    expect(agent.things.remind()).toBe(0);
    // The reminders are remembered in the vault, so a restart does not repeat them.
    expect(createPersonalAgent({ vault, clock, inboundBaseUrl: () => '', logger: silentLogger }).things.remind()).toBe(0);
  });

  it('exports an inventory as CSV with formula cells neutralised, and as a printable page with photos and totals', async () => {
    await addFridge();
    const lamp = (await call('POST', '/api/things', { name: '=HYPERLINK("http://evil.example","x")', notes: 'line one\nline "two", three', price: { amount: '19.5', currency: 'EUR' }, location: '@home' })).json['thing'] as ThingView;
    await call('POST', '/api/things', { name: '<script>alert(1)</script>', price: { amount: '1000', currency: 'JPY' } });
    await attach(lamp.id, 'photo', 'lamp.png', 'image/png', SAMPLE_FILES.png);

    const csv = await call('GET', '/api/things/inventory?format=csv');
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = csv.bytes.toString('utf8').split('\r\n');
    expect(lines[0]).toBe('id,name,brand,model,gtin,mpn,serial_number,purchase_date,price,currency,seller,location,warranty,warranty_ends,companies,documents,notes');
    expect(lines[2]).toBe(`${lamp.id},"'=HYPERLINK(""http://evil.example"",""x"")",,,,,,,19.5,EUR,,'@home,none,,,photo: lamp.png,"line one\nline ""two"", three"`);

    const page = await call('GET', '/api/things/inventory?format=html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = page.bytes.toString('utf8');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(`src="data:image/png;base64,${SAMPLE_FILES.png.toString('base64')}"`);
    expect(html).toContain('<tr><th>EUR</th><td>918.50</td></tr>');
    expect(html).toContain('<tr><th>JPY</th><td>1000.00</td></tr>');
  });
});

describe('her things list kept between calls (issue 13 item 8)', () => {
  it('shows a new document, a company’s new name, an edit and a new day, though the list is kept while nothing changed', () => {
    const added = agent.things.add({ name: 'Kettle', links: [{ relationship: shop.id, role: 'seller' }], contracts: [{ kind: 'warranty', start: '2026-01-01', duration: 'P1Y' }] });
    const first = agent.things.list();
    expect(agent.things.list()).toEqual(first);
    agent.things.attach(added.id, { kind: 'receipt', fileName: 'r.pdf', contentType: 'application/pdf', bytes: SAMPLE_FILES.pdf });
    expect(agent.things.list()[0]?.attachments.map((a) => a.fileName)).toEqual(['r.pdf']);
    vault.relationships.update(shop.id, { vendorName: 'Corner Shop Ltd' });
    expect(agent.things.list()[0]?.links[0]?.companyName).toBe('Corner Shop Ltd');
    agent.things.edit(added.id, { location: 'Kitchen' });
    expect(agent.things.list()[0]?.location).toBe('Kitchen');
    // 2026-12-04 + 1 day: the warranty ending 2026-12-31 has one day fewer left.
    const before = agent.things.list()[0]?.contracts[0]?.daysLeft ?? 0;
    clock.advance(86_400_000);
    expect(agent.things.list()[0]?.contracts[0]?.daysLeft).toBe(before - 1);
  });
});

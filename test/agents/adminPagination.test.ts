/**
 * The admin lists that grow, a page at a time over real HTTP: `limit` and `cursor` in, `next` out,
 * every row once in order whatever the page size (ties on time included), the old shape (plus
 * `next`) without either, and bad limits and cursors refused by name with nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/company/connectors/index.js';
import type { ConnectorEvent, ReceivedIntent } from '../../src/company/store/types.js';
import { demandDocument } from '../support/documents.js';
import { startPair, type Pair } from '../support/agents.js';

const ROWS = 7;
const T0 = Date.UTC(2026, 0, 1);

describe('admin list pages', () => {
  let pair: Pair;
  let ref: string;

  beforeAll(async () => {
    const quiet = (id: string): Connector => ({ id, type: 'test', deliver: async () => {} });
    pair = await startPair({ company: { connectors: [quiet('crm'), quiet('audit')] } });
    const { store } = pair.company;
    ref = pair.link.companyRelationship.id;
    // Rows that tie on time, so the id decides the order (and the cursor must carry it).
    for (let n = 0; n < ROWS; n++) {
      const at = T0 + Math.floor(n / 3);
      const id = `row-${String.fromCharCode(97 + ((n * 5) % ROWS))}-${n}`;
      await store.createRelationship({ id, theirDid: `did:peer:2.listed${n}`, customerRef: `C-${n}`, state: 'active', createdAt: at, updatedAt: at });
      await store.addMessage({ id, relationshipId: ref, messageId: `m-${n}`, direction: 'out', type: 'https://didcomm.org/basicmessage/2.0/message', body: { content: `n${n}` }, createdAt: at });
      const event: ConnectorEvent = { id, relationshipId: ref, type: 'profile.updated', payload: { n }, createdAt: at, nextAttemptAt: at, attempts: 0, dispatchedAt: at };
      await store.enqueueEvent(event);
      const intent: ReceivedIntent = { id, relationshipId: ref, messageId: `i-${n}`, demand: demandDocument(), outcome: null, currencyRequired: false, expiresAt: T0 + 86_400_000, state: 'open', createdAt: at, updatedAt: at };
      await store.createReceivedIntent(intent);
      await store.saveConnectorAttempt({ eventId: id, connectorId: n % 2 === 0 ? 'crm' : 'audit', state: 'dead', attempts: 3, nextAttemptAt: null, lastError: 'connector.rejected: HTTP 400', updatedAt: at });
    }
  });
  afterAll(async () => {
    await pair?.cleanup();
  });

  async function get(path: string): Promise<{ status: number; json: any }> {
    const response = await fetch(`${pair.company.url}${path}`, { headers: { authorization: `Bearer ${pair.company.adminToken}` } });
    return { status: response.status, json: await response.json() };
  }

  const lists = () => [
    { path: '/admin/relationships', member: 'relationships', id: (r: any) => r.id },
    { path: `/admin/relationships/${ref}/messages`, member: 'messages', id: (r: any) => r.id },
    { path: '/admin/events', member: 'events', id: (r: any) => r.id },
    { path: `/admin/events?relationship=${ref}`, member: 'events', id: (r: any) => r.id },
    { path: '/admin/intents', member: 'intents', id: (r: any) => r.id },
    { path: '/admin/intents?state=open', member: 'intents', id: (r: any) => r.id },
    { path: '/admin/dead-letters', member: 'deadLetters', id: (r: any) => `${r.attempt.eventId}/${r.attempt.connectorId}` },
    { path: '/admin/connectors/crm/dead-letters', member: 'deadLetters', id: (r: any) => `${r.attempt.eventId}/${r.attempt.connectorId}` },
  ];
  const withQuery = (path: string, query: string) => `${path}${path.includes('?') ? '&' : '?'}${query}`;

  it('without limit or cursor: the list as before, plus next (null when it all fits)', async () => {
    for (const list of lists()) {
      const { status, json } = await get(list.path);
      expect(status, list.path).toBe(200);
      expect(Object.keys(json).sort(), list.path).toEqual([list.member, 'next'].sort());
      expect(json.next, list.path).toBeNull();
      expect(json[list.member].length, list.path).toBeGreaterThanOrEqual(list.path.includes('crm') ? 4 : ROWS);
    }
  });

  it('walks every list a page at a time: every row once, in the unpaged order, the last page with next null', async () => {
    for (const list of lists()) {
      const all = (await get(withQuery(list.path, 'limit=1000'))).json[list.member].map(list.id);
      for (const size of [1, 2, 3]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const { status, json } = await get(withQuery(list.path, `limit=${size}${cursor === null ? '' : `&cursor=${cursor}`}`));
          expect(status, `${list.path} limit=${size}`).toBe(200);
          expect(json[list.member].length).toBeLessThanOrEqual(size);
          seen.push(...json[list.member].map(list.id));
          cursor = json.next;
          if (cursor !== null) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
          pages += 1;
        } while (cursor !== null && pages < 100);
        expect(seen, `${list.path} limit=${size}`).toEqual(all);
        // No empty last page: a full page says next only when a row follows it.
        expect(pages).toBe(Math.max(1, Math.ceil(all.length / size)));
      }
    }
  });

  it('the default page is 100 rows, with a next that leads on', async () => {
    const { store } = pair.company;
    for (let n = 0; n < 100; n++) await store.createRelationship({ id: `more-${String(n).padStart(3, '0')}`, theirDid: `did:peer:2.more${n}`, customerRef: `M-${n}`, state: 'active', createdAt: T0 + 10, updatedAt: T0 + 10 });
    const first = await get('/admin/relationships');
    expect(first.json.relationships).toHaveLength(100);
    expect(first.json.next).toEqual(expect.any(String));
    const rest = await get(`/admin/relationships?cursor=${first.json.next}`);
    const total = (await get('/admin/relationships?limit=1000')).json.relationships.length;
    expect(rest.json.relationships).toHaveLength(total - 100);
    expect(rest.json.next).toBeNull();
  });

  it('refuses a bad limit or cursor with api.bad_request naming it, and changes nothing', async () => {
    const before = await pair.company.snapshot();
    const deadLetterCursor = (await get('/admin/dead-letters?limit=1')).json.next as string;
    const foreign = Buffer.from(JSON.stringify({ createdAt: 1, id: 'x' })).toString('base64url');
    const nul = Buffer.from(JSON.stringify([1, 'a\u0000b'])).toString('base64url');
    const huge = Buffer.from(JSON.stringify([1e300, 'a'])).toString('base64url');
    for (const list of lists()) {
      for (const limit of ['0', '1001', 'x', '1.5', '-1', '', '1e2', ' 5']) {
        const { status, json } = await get(withQuery(list.path, `limit=${encodeURIComponent(limit)}`));
        expect([status, json.error?.code, Object.keys(json.error?.details?.fields ?? {})], `${list.path} limit=${limit}`).toEqual([400, 'api.bad_request', ['limit']]);
      }
      const wrongList = list.member === 'deadLetters' ? (await get('/admin/relationships?limit=1')).json.next : deadLetterCursor;
      for (const cursor of ['!!', '', 'e30', foreign, nul, huge, wrongList, 'A'.repeat(5000)]) {
        const { status, json } = await get(withQuery(list.path, `cursor=${encodeURIComponent(cursor)}`));
        expect([status, json.error?.code, Object.keys(json.error?.details?.fields ?? {})], `${list.path} cursor=${cursor.slice(0, 20)}`).toEqual([400, 'api.bad_request', ['cursor']]);
      }
    }
    expect(await pair.company.snapshot()).toEqual(before);
  });
});

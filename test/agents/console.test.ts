/**
 * The call-center console over real HTTP: the admin sign-in and its cookie session, foreign
 * origins refused, search by a held email, the customer page, "Verify the caller" through to her
 * signed answer, and the audit log of every view and action.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPair, type Pair, answerAsk } from '../support/agents.js';

describe('the call-center console', () => {
  let pair: Pair;
  let base: string;

  beforeEach(async () => {
    pair = await startPair();
    base = pair.company.url;
    pair.personal.agent.profile.set({ email: 'ada@example.org', name: 'Ada Lovelace' });
    await answerAsk(pair.personal, pair.company, pair.link, { fields: ['email', 'name'], purpose: 'Order updates' });
  });
  afterEach(async () => {
    await pair?.cleanup();
  });

  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, ...headers }, body: form(fields) });
  const signIn = async (name = 'Sam Operator'): Promise<string> => {
    const response = await post('/console/login', { name, token: pair.company.adminToken });
    expect(response.status).toBe(303);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    return cookie.split(';')[0]!;
  };
  const get = (path: string, cookie: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { redirect: 'manual', headers: { cookie, ...headers } });

  it('sends a visitor without a session to the sign-in page, and refuses a wrong token without a session', async () => {
    const page = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login');
    const login = await fetch(`${base}/console/login`);
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await login.text()).not.toMatch(/<script>|style="/);
    const wrong = await post('/console/login', { name: 'Eve', token: 'not-the-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await pair.company.agent.auditLog()).toEqual([]);
  });

  it('refuses a foreign Origin (403 api.forbidden_origin) and a change without one, changing nothing', async () => {
    const cookie = await signIn();
    const before = await pair.company.snapshot();
    const foreign = await post('/console/login', { name: 'Eve', token: pair.company.adminToken }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('api.forbidden_origin');
    const cross = await get(`/console/customers/${pair.link.companyRelationship.id}`, cookie, { origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    const verify = await fetch(`${base}/console/customers/${pair.link.companyRelationship.id}/verifications`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: 'http://localhost:1' } });
    expect(verify.status).toBe(403);
    // An opaque origin (what a browser sends from a sandboxed frame, or under Referrer-Policy
    // no-referrer) is not the console's: the console's own pages say same-origin, so the browser names them.
    const opaque = await post('/console/login', { name: 'Eve', token: pair.company.adminToken }, { origin: 'null' });
    expect(opaque.status).toBe(403);
    expect((await fetch(`${base}/console/login`)).headers.get('referrer-policy')).toBe('same-origin');
    const noOrigin = await fetch(`${base}/console/customers/${pair.link.companyRelationship.id}/verifications`, { method: 'POST', redirect: 'manual', headers: { cookie } });
    expect(noOrigin.status).toBe(403);
    expect(await pair.company.snapshot()).toEqual(before);
  });

  it('finds her by email, shows her page, verifies the caller through to her signed answer, and audits each step', async () => {
    const cookie = await signIn();
    const search = await get('/console?q=ADA%40example.org', cookie);
    const results = await search.text();
    expect(results).toContain(pair.link.companyRelationship.customerRef);
    expect(results).not.toContain('ada@example.org'); // the page lists customers, not what we hold
    const byNumber = await (await get(`/console?q=${pair.link.companyRelationship.customerRef}`, cookie)).text();
    expect(byNumber).toContain(`/console/customers/${pair.link.companyRelationship.id}`);
    expect(await (await get('/console?q=nobody%40example.org', cookie)).text()).toContain('No customer found');

    const customer = await get(`/console/customers/${pair.link.companyRelationship.id}`, cookie);
    expect(customer.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await customer.text();
    expect(html).toContain('ada@example.org');
    expect(html).toContain('Order updates');
    expect(html).toContain('Verify the caller');

    // Her text cannot act on the operator's screen: markup is escaped, bidi overrides shown.
    await pair.personal.agent.sendMessage(pair.link.view.id, '<b>invoice\u202Efdp.exe</b>');
    const withMessage = await (await get(`/console/customers/${pair.link.companyRelationship.id}`, cookie)).text();
    expect(withMessage).toContain('&lt;b&gt;invoice[U+202E]fdp.exe&lt;/b&gt;');
    expect(withMessage).not.toContain('\u202E');

    const verify = await post(`/console/customers/${pair.link.companyRelationship.id}/verifications`, {}, { cookie });
    expect(verify.status).toBe(303);
    const location = verify.headers.get('location')!;
    const waiting = await (await get(location, cookie)).text();
    const code = /class="code"[^>]*>([A-Z0-9]{3}-[A-Z0-9]{3})</.exec(waiting)?.[1];
    expect(code).toBeDefined();
    const [hers] = pair.personal.agent.verifications.list();
    expect(hers).toMatchObject({ code, state: 'pending', agent: 'Sam Operator' });
    expect(await (await get(`${location}/state`, cookie)).json()).toEqual({ state: 'pending' });

    await pair.personal.agent.verifications.answer(hers!.id, 'approved');
    expect(await (await get(`${location}/state`, cookie)).json()).toEqual({ state: 'approved' });
    const done = await (await get(location, cookie)).text();
    expect(done).toContain(`Verified: signed by <span class="did">${pair.link.record.myDid}</span>`);

    const reply = await post(`/console/customers/${pair.link.companyRelationship.id}/messages`, { content: 'Thanks, Ada: you are verified.' }, { cookie });
    expect(reply.status).toBe(303);
    expect((await pair.company.agent.messages(pair.link.companyRelationship.id)).map((m) => (m.body as { content?: string }).content)).toContain('Thanks, Ada: you are verified.');

    const actions = (await pair.company.agent.auditLog()).map((e) => [e.operator, e.action, e.relationshipId]).reverse();
    const rel = pair.link.companyRelationship.id;
    expect(actions).toEqual([
      ['Sam Operator', 'console.sign_in', null],
      ['Sam Operator', 'console.search', null],
      ['Sam Operator', 'console.search', null],
      ['Sam Operator', 'console.search', null],
      ['Sam Operator', 'console.view_customer', rel],
      ['Sam Operator', 'console.view_customer', rel],
      ['Sam Operator', 'console.verify', rel],
      ['Sam Operator', 'console.view_verification', rel],
      ['Sam Operator', 'console.view_verification', rel],
      ['Sam Operator', 'console.reply', rel],
    ]);
    // The admin API lists the same log; no search query (an email) is kept in it.
    const audit = await fetch(`${base}/admin/audit`, { headers: { authorization: `Bearer ${pair.company.adminToken}` } });
    const entries = ((await audit.json()) as { entries: unknown[] }).entries;
    expect(entries).toHaveLength(10);
    expect(JSON.stringify(entries)).not.toContain('example.org');
  });

  it('ends the session on sign-out', async () => {
    const cookie = await signIn();
    expect((await post('/console/logout', {}, { cookie })).status).toBe(303);
    expect((await get('/console', cookie)).status).toBe(303);
    expect((await get(`/console/verifications/x/state`, cookie)).status).toBe(401);
  });
});

import type { Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { ApiError, asKithError, type KithError } from '../../core/errors.js';
import { presentError } from '../../core/errorTable.js';
import type { Logger } from '../../core/log.js';
import type { VerificationView } from '../callerVerification.js';
import type { CompanyAgent } from '../createCompanyAgent.js';
import type { CompanyRelationship } from '../store/types.js';
import type { ServiceCaseDetail } from '../serviceCases.js';
import { CONSOLE_CSP, CONSOLE_CSS, CONSOLE_ICON, CONSOLE_JS, esc, page, theirs, when } from './html.js';
import { ConsoleSessions, type ConsoleSession } from './sessions.js';
import type { AdminCredentials } from '../adminTokens.js';

export interface ConsoleOptions {
  agent: CompanyAgent;
  /** Admin tokens: signing in takes one with the `console` scope (the home's admin-token has every scope). */
  credentials: AdminCredentials;
  logger: Logger;
  now: () => number;
}

const COOKIE = 'kith_console';
/** An operator's name: what the audit log records, so plain text of a sensible length. */
const operatorSchema = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'no control or format characters');
const signInSchema = z.object({ token: z.string().min(1).max(200), name: operatorSchema });
const replySchema = z.object({ content: z.string().trim().min(1).max(16_000) });
const searchSchema = z.string().trim().max(320);

type Vars = { Variables: { session: ConsoleSession } };

/**
 * The call-center console (docs/console.md): server-rendered pages under /console behind an admin
 * sign-in, each view and action written to the audit log with the operator's name. Pages carry no
 * inline script or style (CONSOLE_CSP); the one script polls a verification's state.
 */
export function registerConsole(app: Hono, options: ConsoleOptions): void {
  const { agent, logger } = options;
  const sessions = new ConsoleSessions(options.now);
  const publicOrigin = new URL(agent.invitationUrl()).origin;
  const secure = publicOrigin.startsWith('https:');

  const send = (c: Context, html: string, status: 200 | 401 | 400 | 403 | 404 | 409 | 410 | 500 = 200) =>
    c.html(html, status, { 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` with the
    // console's own forms, which the Origin check would refuse. Nothing leaves for other sites.
    'referrer-policy': 'same-origin' });

  // Origins: a browser names the page a request comes from; anything but this console is refused,
  // and a change (POST) must name it (SameSite=Strict cookies are the other half).
  const checkOrigin = async (c: Context, next: () => Promise<void>) => {
    const origin = c.req.header('origin');
    const allowed = new Set([new URL(c.req.url).origin, publicOrigin]);
    if (origin !== undefined && !allowed.has(origin)) throw new ApiError('api.forbidden_origin', 'Cross-origin requests to the console are refused', { details: { origin: origin.slice(0, 200), allowed: [...allowed] } });
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && origin === undefined) {
      throw new ApiError('api.forbidden_origin', 'A change from the console must carry its Origin');
    }
    await next();
  };
  app.use('/console', checkOrigin);
  app.use('/console/*', checkOrigin);

  app.get('/console/console.css', (c) => c.body(CONSOLE_CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }));
  app.get('/console/favicon.svg', (c) => c.body(CONSOLE_ICON, 200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' }));
  app.get('/console/console.js', (c) => c.body(CONSOLE_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));

  const loginPage = (message?: string) =>
    page({
      title: 'Sign in',
      company: agent.name,
      body: `<h1>Sign in</h1>
${message ? `<p class="error" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/console/login">
<label for="name">Your name</label>
<input id="name" name="name" autocomplete="name" required maxlength="60">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<p><button type="submit">Sign in</button></p>
</form>
<p class="muted">Every page you open and every action you take is recorded with your name.</p>`,
    });

  app.get('/console/login', (c) => send(c, loginPage()));
  app.post('/console/login', async (c) => {
    const parsed = signInSchema.safeParse(await c.req.parseBody());
    if (!parsed.success) return send(c, loginPage('Give your name and the admin token.'), 400);
    const principal = options.credentials.authenticate(parsed.data.token);
    if (!principal || !principal.scopes.has('console')) {
      logger.warn('console_sign_in_refused', { reason: principal ? 'no_console_scope' : 'unknown_token' });
      return send(c, loginPage(principal ? 'That token cannot open the console: it needs the console scope (kith-vendor token create --scopes console).' : 'That is not an admin token.'), principal ? 403 : 401);
    }
    const secret = sessions.create(parsed.data.name);
    setCookie(c, COOKIE, secret, { httpOnly: true, sameSite: 'Strict', path: '/console', secure });
    await agent.audit(parsed.data.name, 'console.sign_in', null);
    return c.redirect('/console', 303);
  });
  app.post('/console/logout', async (c) => {
    sessions.end(getCookie(c, COOKIE));
    deleteCookie(c, COOKIE, { path: '/console' });
    return c.redirect('/console/login', 303);
  });

  // Everything else needs a session; a page without one goes to the sign-in page.
  const PUBLIC = new Set(['/console/login', '/console/console.css', '/console/console.js', '/console/favicon.svg']);
  const guard = async (c: Context<Vars>, next: () => Promise<void>) => {
    if (PUBLIC.has(c.req.path)) return next();
    const session = sessions.get(getCookie(c, COOKIE));
    if (!session) {
      if (c.req.path.endsWith('/state')) throw new ApiError('api.unauthorized', 'Sign in to the console');
      return c.redirect('/console/login', 303);
    }
    c.set('session', session);
    return next();
  };
  app.use('/console', guard);
  app.use('/console/*', guard);

  /** An error as a page (statuses from the error table), so the operator stays in the console. */
  const failure = (c: Context<Vars>, error: KithError) => {
    const status = presentError(error.code).status as 400 | 404 | 409 | 410 | 500;
    return send(c, page({ title: 'Error', company: agent.name, operator: c.get('session').operator, body: `<h1>Something went wrong</h1><p class="error" role="alert">${esc(error.message)} <span class="muted">(${esc(error.code)})</span></p><p><a href="/console">Back to search</a></p>` }), status);
  };
  const guarded =
    (handler: (c: Context<Vars>, session: ConsoleSession) => Promise<Response>) =>
    async (c: Context<Vars>): Promise<Response> => {
      try {
        return await handler(c, c.get('session'));
      } catch (error) {
        const kith = asKithError(error);
        if (kith.code === 'internal') throw error;
        return failure(c, kith);
      }
    };

  app.get(
    '/console',
    guarded(async (c, session) => {
      const parsed = searchSchema.safeParse(c.req.query('q') ?? '');
      const query = parsed.success ? parsed.data : '';
      let results = '';
      if (query !== '') {
        // The query itself may be personal (an email): it is not written to the audit log.
        await agent.audit(session.operator, 'console.search', null);
        const found = await agent.searchCustomers(query);
        results =
          found.length === 0
            ? '<p role="status">No customer found.</p>'
            : `<table><caption class="muted">${found.length} found</caption><thead><tr><th scope="col">Customer number</th><th scope="col">Relationship</th><th scope="col">State</th><th scope="col">Since</th></tr></thead><tbody>${found.map(resultRow).join('')}</tbody></table>`;
      }
      return send(
        c,
        page({
          title: 'Find a customer',
          company: agent.name,
          operator: session.operator,
          body: `<h1>Find a customer</h1>
<form method="get" action="/console" role="search">
<label for="q">Customer number, relationship id (or its first characters), or a value we hold such as an email</label>
<input id="q" name="q" value="${esc(query)}" required maxlength="320">
<p><button type="submit">Search</button></p>
</form>
${results}`,
        }),
      );
    }),
  );

  app.get(
    '/console/customers/:id',
    guarded(async (c, session) => {
      const relationship = await agent.findRelationship(c.req.param('id') ?? '');
      await agent.audit(session.operator, 'console.view_customer', relationship.id);
      return send(c, page({ title: `Customer ${relationship.customerRef || relationship.id}`, company: agent.name, operator: session.operator, body: await customerPage(agent, relationship) }));
    }),
  );

  app.post(
    '/console/customers/:id/messages',
    guarded(async (c, session) => {
      const relationship = await agent.findRelationship(c.req.param('id') ?? '');
      const parsed = replySchema.safeParse(await c.req.parseBody());
      if (!parsed.success) throw new ApiError('api.bad_request', 'Write a reply first (at most 16,000 characters)');
      await agent.sendMessage(relationship.id, parsed.data.content);
      await agent.audit(session.operator, 'console.reply', relationship.id);
      return c.redirect(`/console/customers/${encodeURIComponent(relationship.id)}#thread`, 303);
    }),
  );

  app.post(
    '/console/customers/:id/verifications',
    guarded(async (c, session) => {
      const relationship = await agent.findRelationship(c.req.param('id') ?? '');
      const started = await agent.verifications.start(relationship.id, session.operator);
      await agent.audit(session.operator, 'console.verify', relationship.id);
      return c.redirect(`/console/verifications/${encodeURIComponent(started.id)}`, 303);
    }),
  );

  app.get(
    '/console/verifications/:id',
    guarded(async (c, session) => {
      const verification = await agent.verifications.get(c.req.param('id') ?? '');
      await agent.audit(session.operator, 'console.view_verification', verification.relationshipId);
      const relationship = await agent.findRelationship(verification.relationshipId);
      return send(c, page({ title: 'Verify the caller', company: agent.name, operator: session.operator, body: verificationPage(verification, relationship) }));
    }),
  );

  // What the page's script polls: the state only, nothing of the customer (so not audited).
  app.get('/console/verifications/:id/state', async (c) => c.json({ state: (await agent.verifications.get(c.req.param('id') ?? '')).state }, 200, { 'cache-control': 'no-store' }));
}

function resultRow(r: CompanyRelationship): string {
  const href = `/console/customers/${encodeURIComponent(r.id)}`;
  return `<tr><td><a href="${esc(href)}">${esc(r.customerRef || '(none)')}</a></td><td class="did">${esc(r.id)}</td><td>${esc(r.state)}</td><td>${esc(when(r.createdAt))}</td></tr>`;
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function messageText(body: unknown): string {
  const content = (body as { content?: unknown } | null)?.content;
  return typeof content === 'string' ? content : JSON.stringify(body);
}

function verificationLine(v: VerificationView): string {
  const href = `/console/verifications/${encodeURIComponent(v.id)}`;
  return `<li><a href="${esc(href)}">${esc(when(v.createdAt))}</a>: code ${esc(v.code)}, asked by ${esc(v.operator)}: ${esc(outcomeText(v))}</li>`;
}

function outcomeText(v: VerificationView): string {
  switch (v.state) {
    case 'approved':
      return `Verified: signed by ${v.signedBy ?? '?'} at ${v.answeredAt === null ? '?' : when(v.answeredAt)}`;
    case 'refused':
      return `Refused at ${v.answeredAt === null ? '?' : when(v.answeredAt)}`;
    case 'expired':
      return 'Expired without an answer';
    case 'pending':
      return 'Waiting for her answer';
  }
}

/** Her service cases on this relationship with their threads, most recently changed first (docs/protocol/service.md). */
async function serviceCasesOf(agent: CompanyAgent, relationshipId: string): Promise<ServiceCaseDetail[]> {
  const cases = await agent.serviceCases.list({ relationshipId, limit: 20 });
  return Promise.all(cases.map((c) => agent.serviceCases.show(c.id)));
}

/** One case, read-only: what she shared, the identifier she picked, the thread (answered with `kith-vendor cases reply` or the admin API). */
function caseBlock(c: ServiceCaseDetail): string {
  const shared = Object.entries(c.thing).map(([field, value]) => `<tr><th scope="row">${esc(field)}</th><td>${theirs(typeof value === 'object' && value !== null ? `${(value as { amount: string }).amount} ${(value as { currency: string }).currency}` : String(value))}</td></tr>`);
  const thread = c.thread.map((e) => `<tr><td>${esc(when(e.createdAt))}</td><td>${e.author === 'person' ? 'Customer' : 'Us'}</td><td>${esc(e.kind)}</td><td>${e.text === null ? '' : theirs(e.text)}</td></tr>`);
  return `<article><h3>Case <span class="did">${esc(c.id)}</span> · ${esc(c.state)}${c.warrantyClaim ? ' · warranty claim' : ''}</h3>
${shared.length > 0 ? `<table><tbody>${shared.join('')}</tbody></table>` : '<p class="muted">She shared nothing of the thing.</p>'}
${c.identifier ? `<p>Her ${esc(c.identifier.kind.replace('_', ' '))}: ${theirs(c.identifier.value)}</p>` : ''}
<table><thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">What</th><th scope="col">Text</th></tr></thead><tbody>${thread.join('')}</tbody></table></article>`;
}

async function customerPage(agent: CompanyAgent, relationship: CompanyRelationship): Promise<string> {
  const [holdings, messages, terms, verifications, cases] = await Promise.all([
    agent.holdings(relationship.id),
    agent.messages(relationship.id),
    agent.store.currentTermsAgreement(relationship.id),
    agent.verifications.list(relationship.id),
    serviceCasesOf(agent, relationship.id),
  ]);
  const live = relationship.state !== 'cut_off';
  const base = `/console/customers/${encodeURIComponent(relationship.id)}`;
  const consents = new Map(holdings.consentRecords.map((r) => [r.id, r]));
  const fields = holdings.fields.map((f) => {
    const consent = consents.get(f.consentRecordId);
    const purposes = consent?.record.processing.flatMap((p) => p.purposes).join('; ') ?? '';
    return `<tr><th scope="row">${esc(f.field)}</th><td>${theirs(showValue(f.value))}</td><td>${esc(purposes)}</td><td>${esc(consent ? `${consent.state} (record ${consent.id})` : 'none on file')}</td><td>${esc(f.source === 'credential' ? `credential from ${f.issuer ?? '?'}` : 'from her')}</td></tr>`;
  });
  const thread = messages.map(
    (m) => `<tr><td>${esc(when(m.createdAt))}</td><td>${m.direction === 'in' ? 'Customer' : 'Us'}</td><td>${theirs(messageText(m.body))}</td></tr>`,
  );
  return `<h1>Customer ${esc(relationship.customerRef || '(no number)')}</h1>
<p>Relationship <span class="did">${esc(relationship.id)}</span> · ${esc(relationship.state)} · since ${esc(when(relationship.createdAt))}</p>
<section aria-labelledby="verify">
<h2 id="verify">Verify the caller</h2>
${
  live
    ? `<form method="post" action="${esc(`${base}/verifications`)}"><p>Sends her agent a request to confirm she is on the phone, with a code both of you see.</p><button type="submit">Verify the caller</button></form>`
    : '<p class="muted">This relationship was cut off.</p>'
}
${verifications.length > 0 ? `<ul>${verifications.map(verificationLine).join('')}</ul>` : ''}
</section>
<section aria-labelledby="cases">
<h2 id="cases">Service cases</h2>
${cases.length > 0 ? cases.map(caseBlock).join('') : '<p>No service cases.</p>'}
</section>
<section aria-labelledby="terms">
<h2 id="terms">Agreed terms</h2>
<p>${terms ? `<span class="did">${esc(terms.agreementId)}</span>, agreed ${esc(when(terms.updatedAt))}` : 'No terms agreed.'}</p>
</section>
<section aria-labelledby="held">
<h2 id="held">What we hold</h2>
${
  fields.length > 0
    ? `<table><thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">Purpose</th><th scope="col">Consent</th><th scope="col">Source</th></tr></thead><tbody>${fields.join('')}</tbody></table>`
    : '<p>Nothing.</p>'
}
</section>
<section aria-labelledby="thread">
<h2 id="thread">Messages</h2>
${thread.length > 0 ? `<table><thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">Text</th></tr></thead><tbody>${thread.join('')}</tbody></table>` : '<p>No messages.</p>'}
${
  live
    ? `<form method="post" action="${esc(`${base}/messages`)}"><label for="content">Reply</label><textarea id="content" name="content" rows="3" required maxlength="16000"></textarea><p><button type="submit">Send</button></p></form>`
    : ''
}
</section>`;
}

function verificationPage(v: VerificationView, relationship: CompanyRelationship): string {
  const back = `/console/customers/${encodeURIComponent(relationship.id)}`;
  const state = `/console/verifications/${encodeURIComponent(v.id)}/state`;
  const outcome =
    v.state === 'approved'
      ? `<p class="verified" role="status">Verified: signed by <span class="did">${esc(v.signedBy ?? '?')}</span> at ${esc(v.answeredAt === null ? '?' : when(v.answeredAt))}</p>`
      : v.state === 'refused'
        ? `<p class="refused" role="status">Refused: the customer did not confirm this call.</p>`
        : v.state === 'expired'
          ? `<p class="refused" role="status">Expired: no answer came in time. Ask again if she is still on the line.</p>`
          : `<p role="status">Waiting for her answer (until ${esc(when(v.expiresAt))}). Ask her to check that her app shows the same code.</p>`;
  return `<h1>Verify the caller</h1>
<p>Customer <a href="${esc(back)}">${esc(relationship.customerRef || relationship.id)}</a></p>
<div data-state-url="${esc(state)}" data-state="${esc(v.state)}">
<p>Code</p>
<p class="code" aria-label="Code ${esc([...v.code.replace('-', '')].join(' '))}">${esc(v.code)}</p>
${outcome}
</div>`;
}

/**
 * The web app's side of `kith serve`, in process but over real HTTP on loopback: the pages and
 * their security headers, the token-for-cookie exchange, the Host and Origin checks, locking and
 * unlocking (by hand, at start and after idle time), the event stream ending on lock, the connect
 * preview (nothing sent), and importing an export into an empty running agent.
 *
 * The web app build is faked (a tiny index.html, login.html and one hashed asset in a temp dir),
 * so these tests do not depend on the real UI build. Requests go through node:http so that the
 * Host header and raw paths (`%2e%2e`) reach the server exactly as written; fetch is used only to
 * read the event stream.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE } from '../../src/core/errorTable.js';
import type { KithErrorCode } from '../../src/core/errors.js';
import { vaultFileId, vaultPath } from '../../src/personal/home.js';
import { SESSION_KEY_HEADER } from '../../src/personal/http/apiContract.js';
import { sessionCookieName } from '../../src/personal/http/localApi.js';
import { CONTENT_SECURITY_POLICY } from '../../src/personal/http/webApp.js';
import { startPersonalServer, type RunningPersonalAgent } from '../../src/personal/server.js';
import { FREE_ATTEMPTS } from '../../src/personal/http/unlockThrottle.js';
import type { AgreementView, TermsPreview } from '../../src/personal/terms.js';
import { openExport } from '../../src/personal/vault/export.js';
import { Vault } from '../../src/personal/vault/vault.js';
import type { RelationshipView } from '../../src/personal/views.js';
import { fileLogger, startCompany, type CompanyHandle } from '../support/agents.js';
import { sleep, waitFor } from '../support/processes.js';

const PASSPHRASE = 'correct horse battery staple (web session)';
const ID = (name: string): string => `https://kith.invalid/terms/agreements/${name}`;
const shortName = (id: string): string => id.slice(id.lastIndexOf('/') + 1);

// ---------------------------------------------------------------------------------------------
// A fake web app build

const INDEX_HTML = '<!doctype html><html><head><title>Kith</title><script type="module" src="/assets/app-abc123.js"></script></head><body><div id="root" data-page="index-for-test"></div></body></html>';
const LOGIN_HTML = '<!doctype html><html><head><title>Kith login</title><script type="module" src="/assets/app-abc123.js"></script></head><body><main data-page="login-for-test"></main></body></html>';
const APP_JS = 'console.log("kith app for tests");\n';
const ASSET = 'app-abc123.js';

let root: string;
let uiDir: string;

// ---------------------------------------------------------------------------------------------
// HTTP over node:http, headers exactly as given

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed JSON body, or {} when it is not JSON. */
  json: { error?: { code?: string; message?: string } } & Record<string, unknown>;
}

function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string> = { host: `127.0.0.1:${port}`, ...headers };
    if (body !== undefined) {
      all['content-type'] ??= 'application/json';
      all['content-length'] = String(Buffer.byteLength(body));
    }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Reply['json'] = {};
        try {
          json = JSON.parse(text) as Reply['json'];
        } catch {
          // not JSON (a page, an asset, an empty body)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/**
 * `cookie`: a browser session's cookie, sent with the key the sign-in gave with it (as her page
 * does), unless `key` says otherwise: another value, or null for none (a leaked cookie replayed).
 */
type Auth = 'bearer' | 'none' | { cookie: string; key?: string | null } | { token: string };

interface CallOptions {
  body?: unknown;
  /** Default: the agent's bearer token. */
  auth?: Auth;
  origin?: string;
  host?: string;
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Her running agent

interface Her {
  server: RunningPersonalAgent;
  home: string;
  port: number;
  logPath: string;
  /** `http://127.0.0.1:<port>`, the Origin her browser sends. */
  origin: string;
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Logs her browser in: POST /api/session with the token; returns the session cookie's value (`call` sends its key with it). */
  login(): Promise<string>;
  /** The session cookie's name (it names her port). */
  cookieName: string;
  /** The key the sign-in answer gave with this cookie. */
  sessionKey(cookie: string): string;
  /** Her vault, as the running (unlocked) agent holds it, every row. */
  snapshot(): Record<string, unknown[]>;
  relationships(): Promise<RelationshipView[]>;
  locked(): Promise<boolean>;
}

const cleanups: (() => Promise<void> | void)[] = [];

async function startHer(options: { unlocked?: boolean; idleLockMs?: number; passphraseHint?: string } = {}): Promise<Her> {
  const home = mkdtempSync(join(root, 'home-'));
  const vault = Vault.create(vaultPath(home), PASSPHRASE, { kdf: { N: 2 ** 12 } });
  const unlocked = options.unlocked ?? true;
  if (!unlocked) vault.close();
  const logPath = join(root, `${home.split('/').pop()}.log`);
  const server = await startPersonalServer({
    home,
    ...(unlocked ? { vault } : {}),
    port: 0,
    logger: fileLogger(logPath, 'personal'),
    idleLockMs: options.idleLockMs ?? 0,
    uiDir,
    pickupIntervalMs: 60_000,
    ...(options.passphraseHint ? { passphraseHint: options.passphraseHint } : {}),
  });
  cleanups.push(async () => {
    await server.stop();
    vault.close();
  });
  const port = server.port;
  const origin = `http://127.0.0.1:${port}`;
  const cookieName = sessionCookieName(port);
  /** Session cookie -> the key the sign-in answer gave with it (what her page keeps). */
  const keys = new Map<string, string>();
  const call = (method: string, path: string, callOptions: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...(callOptions.headers ?? {}) };
    const auth = callOptions.auth ?? 'bearer';
    if (auth === 'bearer') headers['authorization'] = `Bearer ${server.token}`;
    else if (auth !== 'none' && 'token' in auth) headers['authorization'] = `Bearer ${auth.token}`;
    else if (auth !== 'none') {
      headers['cookie'] = `${cookieName}=${auth.cookie}`;
      const key = auth.key === undefined ? keys.get(auth.cookie) : auth.key;
      if (key !== undefined && key !== null) headers[SESSION_KEY_HEADER] = key;
    }
    if (callOptions.origin !== undefined) headers['origin'] = callOptions.origin;
    if (callOptions.host !== undefined) headers['host'] = callOptions.host;
    return rawRequest(port, method, path, headers, callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body)).then((reply) => {
      // A sign-in: her page keeps the key that goes with the cookie.
      const signedIn = method === 'POST' && path === '/api/session' && reply.status === 200 ? sessionCookieOf(reply, cookieName) : undefined;
      if (signedIn) keys.set(signedIn, reply.json['sessionKey'] as string);
      return reply;
    });
  };
  const her: Her = {
    server,
    home,
    port,
    logPath,
    origin,
    call,
    cookieName,
    sessionKey(cookie) {
      const key = keys.get(cookie);
      if (!key) throw new Error('no key for that cookie');
      return key;
    },
    async login() {
      const reply = await call('POST', '/api/session', { auth: 'none', body: { token: server.token }, origin });
      expect(reply.status).toBe(200);
      const cookie = sessionCookieOf(reply, cookieName);
      if (!cookie) throw new Error('no session cookie');
      return cookie;
    },
    snapshot: () => server.access.current().vault.snapshot(),
    async relationships() {
      const reply = await call('GET', '/api/relationships');
      expect(reply.status, reply.text).toBe(200);
      return reply.json['relationships'] as RelationshipView[];
    },
    async locked() {
      const reply = await call('GET', '/api/status');
      expect(reply.status, reply.text).toBe(200);
      return reply.json['locked'] as boolean;
    },
  };
  return her;
}

const companies: CompanyHandle[] = [];
async function companyWith(name: string, policy: unknown = {}): Promise<CompanyHandle> {
  const company = await startCompany({ name, policy });
  companies.push(company);
  return company;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function setCookies(reply: Reply): string[] {
  return reply.headers['set-cookie'] ?? [];
}

function sessionCookieOf(reply: Reply, name: string): string | undefined {
  for (const line of setCookies(reply)) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

/** Status and error code, compared at once so a failure shows both. */
function failed(reply: Reply): [number, string | undefined] {
  return [reply.status, reply.json.error?.code];
}
function refusal(code: KithErrorCode): [number, string] {
  return [ERROR_TABLE[code].status, code];
}

/** The vault's files on disk (hashes), for "nothing changed" while the agent is locked and no connection is open. */
function vaultFiles(home: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const suffix of ['', '-wal', '-shm']) {
    const file = vaultPath(home) + suffix;
    out[suffix || 'db'] = existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null;
  }
  return out;
}

function expectSecurityHeaders(reply: Reply): void {
  expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(reply.headers['x-frame-options']).toBe('DENY');
  expect(reply.headers['x-content-type-options']).toBe('nosniff');
  expect(reply.headers['referrer-policy']).toBe('no-referrer');
}

type TermsRow = [by: 'person' | 'company', state: string, agreement: string];
async function termsRows(her: Her, relationshipId: string): Promise<{ rows: TermsRow[]; views: AgreementView[] }> {
  const reply = await her.call('GET', `/api/relationships/${relationshipId}/terms`);
  expect(reply.status, reply.text).toBe(200);
  const views = reply.json['terms'] as AgreementView[];
  return { rows: views.map((t) => [t.proposedBy, t.state, shortName(t.agreementId)]), views };
}

interface ConnectPreviewReply {
  invitation: { id: string; from: string; goal: string | null };
  company: { did: string; endpoint: string | null };
  terms: TermsPreview;
}

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kith-web-session-'));
  uiDir = join(root, 'ui');
  mkdirSync(join(uiDir, 'assets'), { recursive: true });
  writeFileSync(join(uiDir, 'index.html'), INDEX_HTML);
  writeFileSync(join(uiDir, 'login.html'), LOGIN_HTML);
  writeFileSync(join(uiDir, 'assets', ASSET), APP_JS);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  for (const company of companies) await company.cleanup();
  if (root) rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('web app pages', () => {
  let her: Her;
  beforeAll(async () => {
    her = await startHer();
  });

  it('app routes redirect to /login without the session cookie (with the security headers)', async () => {
    for (const path of ['/', '/relationships', '/relationships/abc', '/settings']) {
      const reply = await her.call('GET', path, { auth: 'none' });
      // Back to the page she asked for once signed in: /login?next=<path> (the root needs none).
      const login = path === '/' ? '/login' : `/login?next=${encodeURIComponent(path)}`;
      expect([path, reply.status, reply.headers['location']]).toEqual([path, 302, login]);
      expect(reply.text).not.toContain('index-for-test');
      expectSecurityHeaders(reply);
    }
    // A bearer token is not a browser session: pages want the cookie.
    const withBearer = await her.call('GET', '/');
    expect([withBearer.status, withBearer.headers['location']]).toEqual([302, '/login']);
  });

  it('/login is public: the login page with CSP, frame, sniffing and referrer protections, never cached', async () => {
    const reply = await her.call('GET', '/login', { auth: 'none' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.text).toBe(LOGIN_HTML);
    expectSecurityHeaders(reply);
    expect(reply.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(setCookies(reply)).toEqual([]);
  });

  it('serves a built asset with its content type and an immutable cache; anything else under /assets is 404', async () => {
    const reply = await her.call('GET', `/assets/${ASSET}`, { auth: 'none' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(reply.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.text).toBe(APP_JS);

    const unknown = await her.call('GET', '/assets/app-zzz999.js', { auth: 'none' });
    expect(unknown.status).toBe(404);
    expect(unknown.text).not.toContain(APP_JS.trim());
  });

  it('path tricks under /assets reach nothing outside the build (404, no file content)', async () => {
    const serverTs = readFileSync(new URL('../../src/personal/server.ts', import.meta.url), 'utf8');
    const expectNothingLeaks = (path: string, reply: Reply) => {
      expect(reply.text, path).not.toContain('index-for-test');
      expect(reply.text, path).not.toContain('"name": "kith"');
      expect(reply.text, path).not.toContain(serverTs.slice(0, 200));
    };
    for (const path of [
      '/assets/..%2Fserver.js',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2findex.html',
      '/assets/..%5Cindex.html',
      '/assets/%2E%2E%2F%2E%2E%2Fsrc%2Fpersonal%2Fserver.ts',
      `/assets/${ASSET}%00.html`,
      `/assets/./${ASSET}/..%2F..%2Findex.html`,
    ]) {
      const reply = await her.call('GET', path, { auth: 'none' });
      expect([path, reply.status]).toEqual([path, 404]);
      expectNothingLeaks(path, reply);
    }
    // Encoded dot segments that make up a whole segment are dot segments (WHATWG URL parsing, as
    // every browser does): /assets/%2e%2e is /, an app page, and gets what / gets: the login
    // redirect without the cookie. Nothing from outside the build either way.
    const cookie = await her.login();
    for (const path of ['/assets/%2e%2e', '/assets/%2E%2E/', '/assets/.%2e']) {
      expect(new URL(path, her.origin).pathname).toBe('/');
      const reply = await her.call('GET', path, { auth: 'none' });
      expect([path, reply.status, reply.headers['location']]).toEqual([path, 302, '/login']);
      expectNothingLeaks(path, reply);
      const withCookie = await her.call('GET', path, { auth: { cookie } });
      expect([path, withCookie.status, withCookie.text]).toEqual([path, 200, INDEX_HTML]);
    }
  });

  it('a foreign Host header (DNS rebinding) gets 403 api.forbidden_host on pages, assets and the API', async () => {
    const cookie = await her.login();
    const evil = `evil.example:${her.port}`;
    for (const [path, auth] of [
      ['/', 'none'],
      ['/', { cookie }],
      ['/login', 'none'],
      [`/assets/${ASSET}`, 'none'],
      ['/api/status', 'bearer'],
      ['/api/relationships', { cookie }],
      ['/api/session', 'none'],
    ] as [string, Auth][]) {
      const reply = await her.call('GET', path, { auth, host: evil });
      expect([path, ...failed(reply)]).toEqual([path, ...refusal('api.forbidden_host')]);
      expect(reply.text).not.toContain('for-test');
      expect(reply.text).not.toContain(APP_JS.trim());
    }
    // The right name on another port is foreign too.
    const otherPort = await her.call('GET', '/api/status', { host: `127.0.0.1:${her.port + 1}` });
    expect(failed(otherPort)).toEqual(refusal('api.forbidden_host'));
    // A token exchange from a rebinding page sets no cookie.
    const exchange = await her.call('POST', '/api/session', { auth: 'none', host: evil, body: { token: her.server.token } });
    expect(failed(exchange)).toEqual(refusal('api.forbidden_host'));
    expect(setCookies(exchange)).toEqual([]);
    // Her own names for the agent are fine.
    for (const host of [`127.0.0.1:${her.port}`, `localhost:${her.port}`]) {
      expect((await her.call('GET', '/api/status', { host })).status).toBe(200);
    }
  });
});

describe('browser sessions', () => {
  let her: Her;
  let cookie: string;
  beforeAll(async () => {
    her = await startHer();
  });

  it('a wrong token gets 401 api.unauthorized and no cookie', async () => {
    for (const token of ['not-the-token', `${her.server.token}x`, her.server.token.slice(0, -1)]) {
      const reply = await her.call('POST', '/api/session', { auth: 'none', body: { token }, origin: her.origin });
      expect(failed(reply)).toEqual(refusal('api.unauthorized'));
      expect(setCookies(reply)).toEqual([]);
    }
    // From another site's page: refused before the token is even looked at.
    const foreign = await her.call('POST', '/api/session', { auth: 'none', body: { token: her.server.token }, origin: 'http://evil.example' });
    expect(failed(foreign)).toEqual(refusal('api.forbidden_origin'));
    expect(setCookies(foreign)).toEqual([]);
    const session = await her.call('GET', '/api/session', { auth: 'none' });
    expect(session.json).toEqual({ authenticated: false, locked: false });
  });

  it('the right token gets an HttpOnly SameSite=Strict session cookie named for her port, and the session key apart from it; neither is the token', async () => {
    const reply = await her.call('POST', '/api/session', { auth: 'none', body: { token: her.server.token }, origin: her.origin });
    expect(reply.status).toBe(200);
    expect(her.cookieName).toBe(`kith_session_${her.port}`);
    const lines = setCookies(reply);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${her.cookieName}=[^;]+; Path=/; HttpOnly; SameSite=Strict$`));
    cookie = sessionCookieOf(reply, her.cookieName)!;
    const key = reply.json['sessionKey'] as string;
    expect(Object.keys(reply.json)).toEqual(['sessionKey']);
    for (const secret of [cookie, key]) {
      expect(secret.length).toBeGreaterThanOrEqual(20);
      expect(secret).not.toContain(her.server.token);
      expect(her.server.token).not.toContain(secret);
    }
    expect(key).not.toBe(cookie);
    // The key is in no cookie: only the page that signed in holds it.
    expect(lines[0]).not.toContain(key);
    // Each exchange makes a new session.
    const again = await her.login();
    expect(again).not.toBe(cookie);
    expect(her.sessionKey(again)).not.toBe(key);
  });

  it('with the cookie: the app page, the API and the session state', async () => {
    for (const path of ['/', '/relationships/abc', '/settings']) {
      const page = await her.call('GET', path, { auth: { cookie } });
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toBe(INDEX_HTML);
      expectSecurityHeaders(page);
      expect(page.headers['cache-control']).toBe('no-store');
    }
    const relationships = await her.call('GET', '/api/relationships', { auth: { cookie } });
    expect(relationships.status).toBe(200);
    expect(relationships.json).toEqual({ relationships: [] });
    expect(relationships.headers['cache-control']).toBe('no-store');
    const session = await her.call('GET', '/api/session', { auth: { cookie } });
    expect(session.json).toEqual({ authenticated: true, locked: false });
  });

  it('a made-up or stale-looking cookie gets 401 (API) or the login page (pages)', async () => {
    for (const madeUp of ['made-up', her.server.token, `${cookie}x`, '']) {
      const api = await her.call('GET', '/api/relationships', { auth: { cookie: madeUp } });
      expect([madeUp, ...failed(api)]).toEqual([madeUp, ...refusal('api.unauthorized')]);
      const page = await her.call('GET', '/', { auth: { cookie: madeUp } });
      expect([madeUp, page.status, page.headers['location']]).toEqual([madeUp, 302, '/login']);
      const session = await her.call('GET', '/api/session', { auth: { cookie: madeUp } });
      expect(session.json).toEqual({ authenticated: false, locked: false });
    }
  });

  it('a leaked cookie without its key (another local server replaying it, Host and Origin forged) gets 401 api.session_key_required and changes nothing', async () => {
    const before = her.snapshot();
    const leaked = [
      { cookie, key: null },
      { cookie, key: 'made-up-key-of-the-right-looking-length-000' },
      { cookie, key: `${her.sessionKey(cookie)}x` },
      // Neither the cookie nor the token is a key.
      { cookie, key: cookie },
      { cookie, key: her.server.token },
      { cookie, key: '' },
    ];
    for (const auth of leaked) {
      for (const origin of [her.origin, `http://localhost:${her.port}`]) {
        const put = await her.call('PUT', '/api/terms/default', { auth, origin, host: `127.0.0.1:${her.port}`, body: { agreement: 'service-only' } });
        expect([auth.key, ...failed(put)]).toEqual([auth.key, ...refusal('api.session_key_required')]);
        expect(failed(await her.call('POST', '/api/lock', { auth, origin }))).toEqual(refusal('api.session_key_required'));
      }
      expect(failed(await her.call('GET', '/api/relationships', { auth }))).toEqual(refusal('api.session_key_required'));
      expect(failed(await her.call('GET', '/api/events', { auth }))).toEqual(refusal('api.session_key_required'));
      expect((await her.call('GET', '/api/session', { auth })).json).toEqual({ authenticated: false, locked: false });
    }
    expect(her.snapshot()).toEqual(before);
    expect(await her.locked()).toBe(false);
    // The same cookie with its own key is her page: it works.
    expect((await her.call('GET', '/api/relationships', { auth: { cookie } })).status).toBe(200);
    expect((await her.call('GET', '/api/session', { auth: { cookie } })).json).toEqual({ authenticated: true, locked: false });
  });

  it('a sign-in in another tab replaces the cookie under the open tabs: their keys keep working with it', async () => {
    const firstKey = her.sessionKey(cookie);
    const newCookie = await her.login();
    // Her browser now sends only the new cookie; the first tab still sends its own key.
    const reply = await her.call('GET', '/api/relationships', { auth: { cookie: newCookie, key: firstKey } });
    expect(reply.status, reply.text).toBe(200);
    expect((await her.call('GET', '/api/session', { auth: { cookie: newCookie, key: firstKey } })).json).toEqual({ authenticated: true, locked: false });
  });

  it('a key header without a cookie, or with a cookie under another port’s name, authenticates nothing', async () => {
    const key = her.sessionKey(cookie);
    const keyOnly = await her.call('GET', '/api/relationships', { auth: 'none', headers: { [SESSION_KEY_HEADER]: key } });
    expect(failed(keyOnly)).toEqual(refusal('api.unauthorized'));
    const otherName = await her.call('GET', '/api/relationships', { auth: 'none', headers: { cookie: `kith_session_${her.port + 1}=${cookie}`, [SESSION_KEY_HEADER]: key } });
    expect(failed(otherName)).toEqual(refusal('api.unauthorized'));
  });

  it('a cookie-authenticated state change needs her Origin; a bearer call (the CLI) needs none', async () => {
    const before = her.snapshot();
    const setDefault = (options: CallOptions) => her.call('PUT', '/api/terms/default', { ...options, body: { agreement: 'service-only' } });
    const noOrigin = await setDefault({ auth: { cookie } });
    expect(failed(noOrigin)).toEqual(refusal('api.forbidden_origin'));
    for (const origin of ['http://evil.example', `http://evil.example:${her.port}`, `https://127.0.0.1:${her.port}`, 'null', `http://127.0.0.1:${her.port + 1}`]) {
      const reply = await setDefault({ auth: { cookie }, origin });
      expect([origin, ...failed(reply)]).toEqual([origin, ...refusal('api.forbidden_origin')]);
    }
    // A bearer call from another site's page is refused as well.
    expect(failed(await setDefault({ origin: 'http://evil.example' }))).toEqual(refusal('api.forbidden_origin'));
    expect(her.snapshot()).toEqual(before);
    expect((await her.call('GET', '/api/terms', { auth: { cookie } })).json['default']).toBeNull();

    // Lock too: refused without her Origin, so she stays unlocked.
    expect(failed(await her.call('POST', '/api/lock', { auth: { cookie } }))).toEqual(refusal('api.forbidden_origin'));
    expect(failed(await her.call('POST', '/api/lock', { auth: { cookie }, origin: 'http://evil.example' }))).toEqual(refusal('api.forbidden_origin'));
    expect(await her.locked()).toBe(false);

    const fromHerPage = await setDefault({ auth: { cookie }, origin: her.origin });
    expect(fromHerPage.status, fromHerPage.text).toBe(200);
    expect(fromHerPage.json).toEqual({ default: ID('service-only') });
    const fromLocalhost = await her.call('PUT', '/api/terms/default', { auth: { cookie }, origin: `http://localhost:${her.port}`, body: { agreement: 'intent-only-contact' } });
    expect(fromLocalhost.json).toEqual({ default: ID('intent-only-contact') });
    const fromCli = await her.call('PUT', '/api/terms/default', { body: { agreement: null } });
    expect(fromCli.status, fromCli.text).toBe(200);
    expect(fromCli.json).toEqual({ default: null });
    // A GET with the cookie needs no Origin (the browser sends none on same-origin GETs).
    expect((await her.call('GET', '/api/terms', { auth: { cookie } })).json['default']).toBeNull();
  });

  it('the token, the session cookie, its key and the passphrase never reach the log', () => {
    const log = readFileSync(her.logPath, 'utf8');
    expect(log).not.toContain(her.server.token);
    expect(log).not.toContain(cookie);
    expect(log).not.toContain(her.sessionKey(cookie));
    expect(log).not.toContain(PASSPHRASE);
  });
});

describe('lock and unlock', () => {
  let her: Her;
  let cookie: string;
  let company: CompanyHandle;
  let before: RelationshipView[];

  beforeAll(async () => {
    her = await startHer();
    company = await companyWith('Lockable Goods Ltd');
    const connected = await her.call('POST', '/api/connect', { body: { invitation: company.agent.invitationUrl() } });
    expect(connected.status, connected.text).toBe(201);
    before = await her.relationships();
    expect(before).toHaveLength(1);
    cookie = await her.login();
  });

  it('POST /api/lock locks: every data call gets vault.locked, status and session say so, and nothing is written', async () => {
    const lock = await her.call('POST', '/api/lock', { auth: { cookie }, origin: her.origin });
    expect(lock.status, lock.text).toBe(200);
    expect(lock.json).toEqual({ locked: true });
    const files = vaultFiles(her.home);

    expect(failed(await her.call('GET', '/api/relationships'))).toEqual(refusal('vault.locked'));
    expect(failed(await her.call('GET', '/api/relationships', { auth: { cookie } }))).toEqual(refusal('vault.locked'));
    expect(failed(await her.call('PUT', '/api/terms/default', { body: { agreement: 'service-only' } }))).toEqual(refusal('vault.locked'));
    expect(failed(await her.call('POST', '/api/connect', { body: { invitation: company.agent.invitationUrl() } }))).toEqual(refusal('vault.locked'));

    const session = await her.call('GET', '/api/session', { auth: { cookie } });
    expect(session.status).toBe(200);
    expect(session.json).toEqual({ authenticated: true, locked: true });
    const status = await her.call('GET', '/api/status');
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ ok: true, locked: true, relationships: null });

    // A company's push while locked is refused (it keeps the message in its outbox).
    for (const route of ['any-route', 'another']) {
      const push = await rawRequest(her.port, 'POST', `/didcomm/${route}`, { 'content-type': 'application/didcomm-encrypted+json' }, '{"protected":"x"}');
      expect([route, ...failed(push)]).toEqual([route, ...refusal('vault.locked')]);
    }
    // The pages still load (the app shows its unlock screen).
    expect((await her.call('GET', '/', { auth: { cookie } })).status).toBe(200);
    expect((await her.call('GET', '/login', { auth: 'none' })).status).toBe(200);
    // Locking again is harmless.
    expect((await her.call('POST', '/api/lock')).json).toEqual({ locked: true });

    expect(vaultFiles(her.home)).toEqual(files);
    expect(her.server.access.locked()).toBe(true);
  });

  it('a wrong passphrase leaves it locked and the vault untouched', async () => {
    const files = vaultFiles(her.home);
    for (const passphrase of ['wrong passphrase', `${PASSPHRASE} `]) {
      const reply = await her.call('POST', '/api/unlock', { auth: { cookie }, origin: her.origin, body: { passphrase } });
      expect(failed(reply)).toEqual(refusal('vault.wrong_passphrase'));
    }
    const empty = await her.call('POST', '/api/unlock', { body: { passphrase: '' } });
    expect(failed(empty)).toEqual(refusal('api.bad_request'));
    // Unlocking from another site's page is refused whatever the passphrase.
    const foreign = await her.call('POST', '/api/unlock', { auth: { cookie }, origin: 'http://evil.example', body: { passphrase: PASSPHRASE } });
    expect(failed(foreign)).toEqual(refusal('api.forbidden_origin'));
    const noOrigin = await her.call('POST', '/api/unlock', { auth: { cookie }, body: { passphrase: PASSPHRASE } });
    expect(failed(noOrigin)).toEqual(refusal('api.forbidden_origin'));
    const noAuth = await her.call('POST', '/api/unlock', { auth: 'none', body: { passphrase: PASSPHRASE } });
    expect(failed(noAuth)).toEqual(refusal('api.unauthorized'));

    expect(await her.locked()).toBe(true);
    expect(failed(await her.call('GET', '/api/relationships'))).toEqual(refusal('vault.locked'));
    expect(vaultFiles(her.home)).toEqual(files);
    expect(readFileSync(her.logPath, 'utf8')).not.toContain('wrong passphrase');
  });

  it('the right passphrase unlocks, and her data is back', async () => {
    const reply = await her.call('POST', '/api/unlock', { auth: { cookie }, origin: her.origin, body: { passphrase: PASSPHRASE } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ locked: false });
    expect(await her.locked()).toBe(false);
    expect(await her.relationships()).toEqual(before);
    expect((await her.call('GET', '/api/session', { auth: { cookie } })).json).toEqual({ authenticated: true, locked: false });
    // The browser session survived the lock.
    expect((await her.call('GET', '/api/relationships', { auth: { cookie } })).status).toBe(200);
    // Unlocking an unlocked agent changes nothing.
    expect((await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } })).json).toEqual({ locked: false });
    // And she can talk to the company again.
    const sent = await her.call('POST', `/api/relationships/${before[0]!.id}/messages`, { body: { content: 'back again' } });
    expect(sent.status, sent.text).toBe(201);
  });
});

describe('wrong passphrases, many of them', () => {
  let her: Her;
  beforeAll(async () => {
    her = await startHer();
    await her.call('POST', '/api/lock');
  });

  it('after five, each try waits (429 with Retry-After), even with the right passphrase; nothing changes meanwhile', async () => {
    const files = vaultFiles(her.home);
    for (let i = 0; i < FREE_ATTEMPTS; i++) {
      expect(failed(await her.call('POST', '/api/unlock', { body: { passphrase: `guess ${i}` } }))).toEqual(refusal('vault.wrong_passphrase'));
    }
    const throttled = await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } });
    expect(failed(throttled)).toEqual(refusal('api.too_many_attempts'));
    expect(Number(throttled.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await her.locked()).toBe(true);
    expect(vaultFiles(her.home)).toEqual(files);

    // Once the wait is over, the right passphrase unlocks, and the count starts over.
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 1_100));
    const reply = await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } });
    expect(reply.status, reply.text).toBe(200);
    expect(await her.locked()).toBe(false);
  });
});

describe('started locked (no vault passed)', () => {
  let her: Her;
  beforeAll(async () => {
    // Started as the demo starts it: the lock screen says where the passphrase is.
    her = await startHer({ unlocked: false, passphraseHint: 'This is the demo: its passphrase is in /tmp/demo/demo-passphrase.' });
  });

  it('everything but session, unlock, lock and status is 409 vault.locked until she unlocks', async () => {
    const files = vaultFiles(her.home);
    expect(await her.locked()).toBe(true);
    expect((await her.call('GET', '/api/status')).json).toEqual({ ok: true, locked: true, relationships: null, passphraseHint: 'This is the demo: its passphrase is in /tmp/demo/demo-passphrase.', vaultFile: vaultFileId(her.home) });
    expect((await her.call('GET', '/api/session')).json).toEqual({ authenticated: true, locked: true });
    const cookie = await her.login();
    expect((await her.call('GET', '/api/session', { auth: { cookie } })).json).toEqual({ authenticated: true, locked: true });

    const routes: [string, string, unknown?][] = [
      ['GET', '/api/relationships'],
      ['GET', '/api/relationships/abc'],
      ['GET', '/api/relationships/abc/messages'],
      ['POST', '/api/relationships/abc/messages', { content: 'hi' }],
      ['GET', '/api/receipts'],
      ['GET', '/api/requests'],
      ['GET', '/api/consents'],
      ['GET', '/api/profile'],
      ['PUT', '/api/profile', { fields: { name: 'Ada' } }],
      ['GET', '/api/profile/vcard'],
      ['GET', '/api/terms'],
      ['PUT', '/api/terms/default', { agreement: 'service-only' }],
      ['GET', '/api/credentials'],
      ['POST', '/api/connect', { invitation: 'http://127.0.0.1:1/invite?_oob=x' }],
      ['POST', '/api/connect/preview', { invitation: 'http://127.0.0.1:1/invite?_oob=x' }],
      ['POST', '/api/pickup', {}],
      ['POST', '/api/export', { plain: true }],
      ['POST', '/api/import', { text: '{}', vaultPassphrase: PASSPHRASE }],
      ['GET', '/api/events'],
      ['GET', '/api/openapi.json'],
    ];
    for (const [method, path, body] of routes) {
      for (const auth of ['bearer', { cookie }] as Auth[]) {
        const reply = await her.call(method, path, { auth, origin: her.origin, ...(body === undefined ? {} : { body }) });
        expect([method, path, ...failed(reply)]).toEqual([method, path, ...refusal('vault.locked')]);
      }
    }
    // Without the token it is 401, locked or not.
    expect(failed(await her.call('GET', '/api/relationships', { auth: 'none' }))).toEqual(refusal('api.unauthorized'));
    const push = await rawRequest(her.port, 'POST', '/didcomm/whatever', { 'content-type': 'application/didcomm-encrypted+json' }, '{}');
    expect(failed(push)).toEqual(refusal('vault.locked'));
    expect(vaultFiles(her.home)).toEqual(files);

    const unlock = await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } });
    expect(unlock.json).toEqual({ locked: false });
    expect(await her.relationships()).toEqual([]);
    expect((await her.call('GET', '/api/profile', { auth: { cookie } })).status).toBe(200);
    expect((await her.call('GET', '/api/status')).json).toEqual({ ok: true, locked: false, relationships: 0, passphraseHint: 'This is the demo: its passphrase is in /tmp/demo/demo-passphrase.', vaultFile: vaultFileId(her.home) });
  });
});

describe('idle lock', () => {
  it('locks after idleLockMs without use; API calls push it back; status and session polls do not', { timeout: 20_000 }, async () => {
    const idleLockMs = 300;
    const her = await startHer({ idleLockMs });
    // Busy for three idle periods: every call pushes the lock back.
    const busyUntil = Date.now() + 3 * idleLockMs;
    let lastUse = Date.now();
    while (Date.now() < busyUntil) {
      const reply = await her.call('GET', '/api/relationships');
      lastUse = Date.now();
      expect(reply.status, reply.text).toBe(200);
      expect(her.server.access.locked()).toBe(false);
      await sleep(idleLockMs / 3);
    }
    // Polling status and session (which do not count as use) while it goes idle.
    const lockedAt = await waitFor(
      'the idle lock',
      async () => {
        const [status, session] = await Promise.all([her.call('GET', '/api/status'), her.call('GET', '/api/session')]);
        expect(status.status).toBe(200);
        expect(session.status).toBe(200);
        return status.json['locked'] === true ? Date.now() : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 25 },
    );
    const idleFor = lockedAt - lastUse;
    expect(idleFor).toBeGreaterThanOrEqual(idleLockMs - 50);
    expect(idleFor).toBeLessThan(idleLockMs + 700);
    expect(failed(await her.call('GET', '/api/relationships'))).toEqual(refusal('vault.locked'));
    expect(readFileSync(her.logPath, 'utf8')).toContain('personal_agent_locked');

    // Unlocking starts a new idle period; a refused call (no token) does not count as use.
    expect((await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } })).json).toEqual({ locked: false });
    const unlockedAt = Date.now();
    await waitFor(
      'the idle lock after unlocking',
      async () => {
        expect(failed(await her.call('GET', '/api/relationships', { auth: 'none' }))).toEqual(refusal('api.unauthorized'));
        return (await her.locked()) ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 25 },
    );
    expect(Date.now() - unlockedAt).toBeGreaterThanOrEqual(idleLockMs - 50);
  });

  it('the web app\'s own refreshes (x-kith-activity: background) and an open event stream do not hold it off', { timeout: 20_000 }, async () => {
    const idleLockMs = 300;
    const her = await startHer({ idleLockMs });
    const events = await fetch(`${her.origin}/api/events`, { headers: { authorization: `Bearer ${her.server.token}` } });
    expect(events.status).toBe(200);
    const startedAt = Date.now();
    const lockedAt = await waitFor(
      'the idle lock while the app refreshes by itself',
      async () => {
        const reply = await her.call('GET', '/api/relationships', { headers: { 'x-kith-activity': 'background' } });
        return reply.status === 409 ? Date.now() : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 25 },
    );
    expect(lockedAt - startedAt).toBeLessThan(idleLockMs + 700);
    await events.body?.cancel();
    // A call she made herself (`user`, or no header as from the CLI) counts.
    expect((await her.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } })).json).toEqual({ locked: false });
    for (let i = 0; i < 6; i += 1) {
      expect((await her.call('GET', '/api/relationships', { headers: { 'x-kith-activity': 'user' } })).status).toBe(200);
      await sleep(idleLockMs / 3);
    }
    expect(await her.locked()).toBe(false);
  });

  it('idleLockMs 0 never locks', async () => {
    const her = await startHer({ idleLockMs: 0 });
    await sleep(600);
    expect(await her.locked()).toBe(false);
  });
});

/** Reads a server-sent event stream until it ends, collecting its events. */
async function readEvents(response: Response, onEvent: (event: { event: string; data: string }) => void): Promise<void> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      onEvent({ event, data: data.join('\n') });
    }
  }
}

describe('event stream', () => {
  let her: Her;
  let cookie: string;
  /** What the stream sent, and when it ended after the lock (ms). */
  let seen: { events: { event: string; data: string }[]; endedAfter: number; ended: boolean; emitted: string[] };

  beforeAll(async () => {
    her = await startHer();
    cookie = await her.login();
    const abort = new AbortController();
    const stopAt = setTimeout(() => abort.abort(), 25_000);
    const events: { event: string; data: string }[] = [];
    try {
      const response = await fetch(`${her.origin}/api/events`, { headers: { cookie: `${her.cookieName}=${cookie}`, [SESSION_KEY_HEADER]: her.sessionKey(cookie) }, signal: abort.signal });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      let ready!: () => void;
      const gotReady = new Promise<void>((resolve) => (ready = resolve));
      const reading = readEvents(response, (event) => {
        events.push(event);
        if (event.event === 'ready') ready();
      });
      await gotReady;
      // What the agent itself emits, to tell a dropped event from one never sent.
      const emitted: string[] = [];
      her.server.access.current().events.on((event) => emitted.push(event.type));
      const lock = await her.call('POST', '/api/lock', { auth: { cookie }, origin: her.origin });
      expect(lock.json).toEqual({ locked: true });
      const lockedAt = Date.now();
      const ended = await reading.then(
        () => true,
        () => false, // aborted after 25 s: it never ended
      );
      seen = { events, endedAfter: Date.now() - lockedAt, ended, emitted };
      if (seen.endedAfter > 2_000) console.warn(`latency note: the event stream ended ${seen.endedAfter} ms after the lock`);
    } finally {
      clearTimeout(stopAt);
      abort.abort();
    }
  }, 40_000);

  it('ends within 20 s of the lock; reconnecting while locked gets 409 vault.locked', async () => {
    expect(seen.events[0]?.event).toBe('ready');
    expect(seen.ended).toBe(true);
    expect(seen.endedAfter).toBeLessThan(20_000);
    // The agent did emit agent.locked while locking.
    expect(seen.emitted).toEqual(['agent.locked']);
    expect(failed(await her.call('GET', '/api/events', { auth: { cookie } }))).toEqual(refusal('vault.locked'));
  });

  it('delivers an agent.locked event before it ends (the page asks for her passphrase at once)', () => {
    expect(seen.events.map((e) => e.event).filter((e) => e !== 'ping')).toEqual(['ready', 'agent.locked']);
    expect(JSON.parse(seen.events.find((e) => e.event === 'agent.locked')!.data)).toEqual({ type: 'agent.locked' });
  });
});

describe('connect preview', () => {
  let her: Her;
  let accepts: CompanyHandle;
  let counters: CompanyHandle;
  let rejects: CompanyHandle;
  let gone: CompanyHandle;
  const predicted: Record<string, ConnectPreviewReply> = {};

  const preview = async (company: CompanyHandle, options: CallOptions = {}): Promise<ConnectPreviewReply> => {
    const reply = await her.call('POST', '/api/connect/preview', { ...options, body: { invitation: company.agent.invitationUrl() } });
    expect(reply.status, reply.text).toBe(200);
    return reply.json as unknown as ConnectPreviewReply;
  };

  beforeAll(async () => {
    her = await startHer();
    [accepts, counters, rejects, gone] = await Promise.all([
      companyWith('Preview Accepts', { terms: { accept: ['intent-only-contact'] } }),
      companyWith('Preview Counters', { terms: { preferred: 'loyalty-program' } }),
      companyWith('Preview Rejects', { terms: { accept: ['service-plus-billing'] } }),
      companyWith('Preview Gone', { terms: { accept: ['intent-only-contact'] } }),
    ]);
    const set = await her.call('PUT', '/api/terms/default', { body: { agreement: 'intent-only-contact' } });
    expect(set.json).toEqual({ default: ID('intent-only-contact') });
  });

  it('predicts accepted / countered / rejected from the published terms and sends nothing', async () => {
    const companiesBefore = await Promise.all([accepts, counters, rejects].map((v) => v.snapshot()));
    const herBefore = her.snapshot();
    const cookie = await her.login();

    predicted['accepts'] = await preview(accepts);
    predicted['counters'] = await preview(counters, { auth: { cookie }, origin: her.origin });
    predicted['rejects'] = await preview(rejects);

    expect(predicted['accepts']).toMatchObject({
      invitation: { from: accepts.did },
      company: { did: accepts.did, endpoint: accepts.didcommUrl },
      terms: { proffer: ID('intent-only-contact'), predicted: 'accepted', alternative: null, weaker: [], published: { accept: [ID('intent-only-contact')], preferred: null } },
    });
    expect(predicted['counters']!.terms).toMatchObject({
      proffer: ID('intent-only-contact'),
      predicted: 'countered',
      alternative: ID('loyalty-program'),
      published: { accept: [], preferred: ID('loyalty-program') },
    });
    expect([...predicted['counters']!.terms.weaker].sort()).toEqual(['allowedPurposes', 'contactOnlyOnIntent', 'maxRetention']);
    expect(predicted['rejects']!.terms).toMatchObject({ proffer: ID('intent-only-contact'), predicted: 'rejected', alternative: null, weaker: [] });

    // Nothing reached the companies, nothing changed on either side.
    for (const company of [accepts, counters, rejects]) expect([company.name, company.inbound]).toEqual([company.name, []]);
    expect(await Promise.all([accepts, counters, rejects].map((v) => v.snapshot()))).toEqual(companiesBefore);
    expect(her.snapshot()).toEqual(herBefore);
    expect(await her.relationships()).toEqual([]);
  });

  it("without default terms the prediction is 'none'; an unreachable policy makes it 'unknown'", async () => {
    await gone.stop();
    const withDefault = await preview(gone);
    expect(withDefault.terms).toEqual({ proffer: ID('intent-only-contact'), published: null, asks: null, predicted: 'unknown', alternative: null, weaker: [] });
    expect(withDefault.company.did).toBe(gone.did);

    expect((await her.call('PUT', '/api/terms/default', { body: { agreement: null } })).json).toEqual({ default: null });
    try {
      const none = await preview(accepts);
      expect(none.terms).toMatchObject({ proffer: null, predicted: 'none', alternative: null, weaker: [], published: { accept: [ID('intent-only-contact')] } });
      const noneGone = await preview(gone);
      expect(noneGone.terms).toEqual({ proffer: null, published: null, asks: null, predicted: 'none', alternative: null, weaker: [] });
    } finally {
      expect((await her.call('PUT', '/api/terms/default', { body: { agreement: 'intent-only-contact' } })).json).toEqual({ default: ID('intent-only-contact') });
    }
    for (const company of [accepts, gone]) expect(company.inbound).toEqual([]);
    expect(await her.relationships()).toEqual([]);
  });

  it('a real connect gives the predicted outcome', async () => {
    const connectTo = async (company: CompanyHandle): Promise<RelationshipView> => {
      const reply = await her.call('POST', '/api/connect', { body: { invitation: company.agent.invitationUrl() } });
      expect(reply.status, reply.text).toBe(201);
      return reply.json['relationship'] as RelationshipView;
    };
    const accepted = await connectTo(accepts);
    expect(predicted['accepts']!.terms.predicted).toBe('accepted');
    expect((await termsRows(her, accepted.id)).rows).toEqual([['person', 'agreed', 'intent-only-contact']]);
    expect(accepted.terms).toMatchObject({ agreementId: ID('intent-only-contact'), outcome: 'accepted' });

    const countered = await connectTo(counters);
    const counteredTerms = await termsRows(her, countered.id);
    expect(counteredTerms.rows).toEqual([
      ['person', 'countered', 'intent-only-contact'],
      ['company', 'proffered', shortName(predicted['counters']!.terms.alternative!)],
    ]);
    const counter = counteredTerms.views.find((t) => t.proposedBy === 'company')!;
    expect(counter.agreementId).toBe(predicted['counters']!.terms.alternative);
    expect(counter.awaitingHer).toBe(true);
    expect([...counter.weaker].sort()).toEqual([...predicted['counters']!.terms.weaker].sort());

    const rejected = await connectTo(rejects);
    expect((await termsRows(her, rejected.id)).rows).toEqual([['person', 'rejected', 'intent-only-contact']]);
    expect(rejected.terms).toMatchObject({ agreementId: null, lastState: 'rejected' });
  });
});

describe('import into a running agent', () => {
  const EXPORT_PASSPHRASE = 'export passphrase (web session)';
  let source: Her;
  let target: Her;
  let company: CompanyHandle;
  let exported: string;
  let sourceRelationships: RelationshipView[];

  beforeAll(async () => {
    company = await companyWith('Importable Supplies');
    source = await startHer();
    const connected = await source.call('POST', '/api/connect', { body: { invitation: company.agent.invitationUrl() } });
    expect(connected.status, connected.text).toBe(201);
    sourceRelationships = await source.relationships();
    expect(sourceRelationships).toHaveLength(1);
    const reply = await source.call('POST', '/api/export', { body: { plain: false, passphrase: EXPORT_PASSPHRASE } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json['format']).toBe('jwe');
    exported = reply.json['text'] as string;
    target = await startHer();
  });

  const importInto = (her: Her, body: Record<string, unknown>, options: CallOptions = {}) => her.call('POST', '/api/import', { ...options, body });

  /** Everything a refused import must leave as it was: her vault, its files' names, unlocked. */
  async function unchanged(her: Her, work: () => Promise<void>): Promise<void> {
    const snapshot = her.snapshot();
    const relationships = await her.relationships();
    const files = readdirSync(her.home).sort();
    await work();
    expect(her.server.access.locked()).toBe(false);
    expect(await her.locked()).toBe(false);
    expect(await her.relationships()).toEqual(relationships);
    expect(her.snapshot()).toEqual(snapshot);
    expect(readdirSync(her.home).sort()).toEqual(files);
  }

  it('a corrupted export is refused with its export error code, nothing changes', async () => {
    const jwe = JSON.parse(exported) as { ciphertext: string };
    const flipped = jwe.ciphertext[10] === 'A' ? 'B' : 'A';
    const tampered = JSON.stringify({ ...jwe, ciphertext: jwe.ciphertext.slice(0, 10) + flipped + jwe.ciphertext.slice(11) });
    await unchanged(target, async () => {
      const reply = await importInto(target, { text: tampered, passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE });
      expect(failed(reply)).toEqual(refusal('export.corrupted'));
      const truncated = await importInto(target, { text: exported.slice(0, exported.length / 2), passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE });
      expect(failed(truncated)).toEqual(refusal('export.corrupted'));
      const foreign = await importInto(target, { text: '{"hello":"world"}', passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE });
      expect(failed(foreign)).toEqual(refusal('export.foreign'));
    });
  });

  it('a wrong export passphrase or a wrong vault passphrase is refused, nothing changes, still unlocked', async () => {
    await unchanged(target, async () => {
      const wrongExport = await importInto(target, { text: exported, passphrase: 'not the export passphrase', vaultPassphrase: PASSPHRASE });
      expect(failed(wrongExport)).toEqual(refusal('vault.wrong_passphrase'));
      const wrongVault = await importInto(target, { text: exported, passphrase: EXPORT_PASSPHRASE, vaultPassphrase: 'not her vault passphrase' });
      expect(failed(wrongVault)).toEqual(refusal('vault.wrong_passphrase'));
    });
  });

  it('from her browser it needs her Origin', async () => {
    const cookie = await target.login();
    await unchanged(target, async () => {
      const reply = await importInto(target, { text: exported, passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE }, { auth: { cookie } });
      expect(failed(reply)).toEqual(refusal('api.forbidden_origin'));
    });
  });

  it('imports into the empty unlocked vault: her relationships are there and the agent is unlocked', { timeout: 30_000 }, async () => {
    const cookie = await target.login();
    const fileBefore = vaultFileId(target.home);
    const reply = await importInto(target, { text: exported, passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE }, { auth: { cookie }, origin: target.origin });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ relationships: 1 });
    expect(await target.locked()).toBe(false);
    const imported = await target.relationships();
    const pick = (r: RelationshipView) => ({ id: r.id, company: r.company, state: r.state, myDid: r.myDid });
    expect(imported.map(pick)).toEqual(sourceRelationships.map(pick));
    // The browser session survives; no leftover of the old vault.
    expect((await target.call('GET', '/api/relationships', { auth: { cookie } })).status).toBe(200);
    expect(readdirSync(target.home).filter((name) => name.includes('before-import'))).toEqual([]);
    // The import made a new vault file: the status names it, so her CLI still knows its agent.
    expect(vaultFileId(target.home)).not.toBe(fileBefore);
    expect((await target.call('GET', '/api/status')).json['vaultFile']).toBe(vaultFileId(target.home));
    // The new vault opens with her passphrase.
    expect((await target.call('POST', '/api/lock')).json).toEqual({ locked: true });
    expect(failed(await target.call('POST', '/api/unlock', { body: { passphrase: EXPORT_PASSPHRASE } }))).toEqual(refusal('vault.wrong_passphrase'));
    expect((await target.call('POST', '/api/unlock', { body: { passphrase: PASSPHRASE } })).json).toEqual({ locked: false });
    expect((await target.relationships()).map(pick)).toEqual(sourceRelationships.map(pick));
  });

  it('importing into a vault that holds relationships is 409 vault.exists, nothing changes', async () => {
    for (const her of [target, source]) {
      await unchanged(her, async () => {
        const reply = await importInto(her, { text: exported, passphrase: EXPORT_PASSPHRASE, vaultPassphrase: PASSPHRASE });
        expect(failed(reply)).toEqual(refusal('vault.exists'));
      });
    }
  });
});

describe('export to a file by the running agent (POST /api/export/file, what `kith export` uses)', () => {
  const EXPORT_PASSPHRASE = 'export passphrase (to a file)';
  let her: Her;
  let exportsDir: string;

  beforeAll(async () => {
    const company = await companyWith('Exported Goods');
    her = await startHer();
    const connected = await her.call('POST', '/api/connect', { body: { invitation: company.agent.invitationUrl() } });
    expect(connected.status, connected.text).toBe(201);
    exportsDir = mkdtempSync(join(root, 'exports-'));
  });

  const exportTo = (body: Record<string, unknown>, options: CallOptions = {}) => her.call('POST', '/api/export/file', { ...options, body });

  it('streams the plain export to the file: the document the API would answer, private to her', async () => {
    const file = join(exportsDir, 'plain.json');
    const reply = await exportTo({ file, plain: true });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ file, format: 'plain', documents: 0 });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const whole = await her.call('POST', '/api/export', { body: { plain: true } });
    const withoutTime = (doc: Record<string, unknown>) => ({ ...doc, exportedAt: undefined });
    expect(withoutTime(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)).toEqual(withoutTime(whole.json['document'] as Record<string, unknown>));
  });

  it('streams the sealed export, which opens with the export passphrase', async () => {
    const file = join(exportsDir, 'sealed.jwe');
    const reply = await exportTo({ file, passphrase: EXPORT_PASSPHRASE });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toMatchObject({ format: 'jwe', documents: 0 });
    const opened = await openExport(readFileSync(file, 'utf8'), EXPORT_PASSPHRASE);
    expect(opened.relationships.map((r) => r.id)).toEqual((await her.relationships()).map((r) => r.id));
  });

  it('refuses bad requests by name, writing nothing and changing nothing', async () => {
    const snapshot = her.snapshot();
    const before = readdirSync(exportsDir).sort();
    const cookie = await her.login();
    const cases: [Record<string, unknown>, CallOptions, KithErrorCode][] = [
      [{ file: 'relative.json', plain: true }, {}, 'api.bad_request'],
      [{ file: join(exportsDir, 'no-passphrase.jwe') }, {}, 'api.bad_request'],
      [{ file: join(exportsDir, 'missing', 'dir.json'), plain: true }, {}, 'export.unwritable'],
      [{ file: exportsDir, plain: true }, {}, 'export.unwritable'],
      // A page in her browser downloads the export; it does not write files on her machine.
      [{ file: join(exportsDir, 'from-browser.json'), plain: true }, { auth: { cookie }, origin: her.origin }, 'api.insufficient_scope'],
    ];
    for (const [body, options, code] of cases) {
      const reply = await exportTo(body, options);
      expect([body['file'], ...failed(reply)]).toEqual([body['file'], ...refusal(code)]);
    }
    expect(readdirSync(exportsDir).sort()).toEqual(before);
    expect(statSync(exportsDir).isDirectory()).toBe(true);
    expect(her.snapshot()).toEqual(snapshot);
  });
});

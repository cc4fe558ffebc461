import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import { packageRoot } from '../../protocol/terms/roster.js';

/*
 * Serves her web app (src/ui, built by Vite into dist/ui). The login page and the hashed assets
 * hold no data and are public; the app's pages need her session cookie, else they redirect to
 * /login. Her data only ever comes from /api with that cookie and the session key her page holds
 * (a cookie alone, which other local servers can see, opens nothing: browserSessions.ts).
 */

/** The Content-Security-Policy of every page: nothing inline, nothing from elsewhere, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The app's routes (History API): each serves index.html. */
const APP_ROUTES = ['/', '/relationships', '/relationships/*', '/connect', '/requests', '/intents', '/intents/*', '/things', '/things/*', '/profile', '/credentials', '/terms', '/settings'] as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export function defaultUiDir(): string {
  return fileURLToPath(new URL('dist/ui/', packageRoot()));
}

export function setSecurityHeaders(c: Context): void {
  c.header('content-security-policy', CONTENT_SECURITY_POLICY);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'no-referrer');
  c.header('x-frame-options', 'DENY');
  c.header('cross-origin-opener-policy', 'same-origin');
  c.header('cross-origin-resource-policy', 'same-origin');
}

interface WebAppFiles {
  index: string;
  login: string;
  /** File name -> bytes, for /assets/<name>: only what the build produced can be served. */
  assets: Map<string, Buffer>;
}

function readBuild(uiDir: string): WebAppFiles | undefined {
  if (!existsSync(join(uiDir, 'index.html')) || !existsSync(join(uiDir, 'login.html'))) return undefined;
  const assetsDir = join(uiDir, 'assets');
  const assets = new Map<string, Buffer>();
  if (existsSync(assetsDir)) for (const name of readdirSync(assetsDir)) assets.set(name, readFileSync(join(assetsDir, name)));
  return { index: readFileSync(join(uiDir, 'index.html'), 'utf8'), login: readFileSync(join(uiDir, 'login.html'), 'utf8'), assets };
}

const NOT_BUILT = 'The Kith web app is not built. Run `npm run build` (npm start and npm test do it), then reload.';

export interface WebAppOptions {
  uiDir: string;
  /** Does this request carry her session cookie? */
  hasSession(c: Context): boolean;
  /** Throws for a foreign Host header (DNS rebinding). */
  checkHost(c: Context): void;
}

/** Adds the web app's routes to the local API's Hono app. The build is read once, at start. */
export function mountWebApp(app: Hono, options: WebAppOptions): void {
  const files = readBuild(options.uiDir);
  const page = (c: Context, html: string | undefined) => {
    options.checkHost(c);
    setSecurityHeaders(c);
    c.header('cache-control', 'no-store');
    return html === undefined ? c.text(NOT_BUILT, 503) : c.html(html);
  };
  app.get('/login', (c) => page(c, files?.login));
  app.get('/assets/:name', (c) => {
    options.checkHost(c);
    const name = c.req.param('name');
    const body = files?.assets.get(name);
    if (body === undefined) return c.text('Not found', 404);
    setSecurityHeaders(c);
    c.header('content-type', CONTENT_TYPES[extname(name)] ?? 'application/octet-stream');
    // Vite names assets by content hash: a name never changes content.
    c.header('cache-control', 'public, max-age=31536000, immutable');
    return c.body(new Uint8Array(body));
  });
  for (const route of APP_ROUTES) {
    app.get(route, (c) => {
      if (!options.hasSession(c)) {
        options.checkHost(c);
        setSecurityHeaders(c);
        // Back to this page after signing in (the login page only follows paths inside the app).
        const next = new URL(c.req.url).pathname;
        return c.redirect(next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`, 302);
      }
      return page(c, files?.index);
    });
  }
  // Any other page a browser asks for: the app itself, which shows its own not-found page (with a
  // 404 status), not the API's JSON. The API, the DIDComm endpoint and clients that do not ask for
  // HTML keep their JSON answers.
  app.get('*', async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith('/api/') || path.startsWith('/didcomm') || !(c.req.header('accept') ?? '').includes('text/html')) return next();
    if (!options.hasSession(c)) {
      options.checkHost(c);
      setSecurityHeaders(c);
      return c.redirect('/login', 302);
    }
    options.checkHost(c);
    setSecurityHeaders(c);
    c.header('cache-control', 'no-store');
    return files === undefined ? c.text(NOT_BUILT, 503) : c.html(files.index, 404);
  });
}

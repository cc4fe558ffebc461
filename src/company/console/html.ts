/** The console's server-rendered HTML: escaping, the page frame, and its two static assets. */

/** Escapes text for HTML element content and double-quoted attributes. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

/** LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI; LRM, RLM, ALM (as her web app's theirText). */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

/**
 * Text the customer wrote, escaped, with bidi controls shown as "[U+202E]": HTML escaping does not
 * stop "invoice\u202Efdp.exe" reading as "invoiceexe.pdf" on the operator's screen.
 */
export function theirs(value: unknown): string {
  return esc(String(value).replace(BIDI_CONTROLS, (ch) => `[U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}]`));
}

/** A time as the console shows it: UTC, to the second. */
export function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** Nothing inline, nothing from elsewhere, never framed: the same policy as her web app's. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function page(options: { title: string; company: string; operator?: string; body: string }): string {
  const signedIn = options.operator
    ? `<form method="post" action="/console/logout" class="signout"><span>Signed in as <strong>${esc(options.operator)}</strong></span> <button type="submit">Sign out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.title)} · ${esc(options.company)} console</title>
<link rel="icon" href="/console/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/console/console.css">
<script src="/console/console.js" defer></script>
</head>
<body>
<header><a href="/console" class="brand">${esc(options.company)} · customer console</a>${signedIn}</header>
<main>
${options.body}
</main>
</body>
</html>`;
}

/** The tab's icon (else the browser asks for /favicon.ico, which the company agent does not serve). */
export const CONSOLE_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f3a5f"/><path d="M4 11V5h2l2 3 2-3h2v6h-2V8l-2 3-2-3v3z" fill="#fff"/></svg>';

export const CONSOLE_CSS = `
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fafafa; }
header { display: flex; justify-content: space-between; align-items: center; padding: .75rem 1.5rem; background: #1f3a5f; color: #fff; }
header a.brand { color: #fff; font-weight: 600; text-decoration: none; }
.signout span { margin-right: .5rem; }
main { max-width: 60rem; margin: 1.5rem auto; padding: 0 1.5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; background: #fff; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
label { display: block; margin: .75rem 0 .25rem; font-weight: 600; }
input, textarea { font: inherit; padding: .4rem; width: 100%; max-width: 30rem; box-sizing: border-box; }
button { font: inherit; padding: .4rem 1rem; cursor: pointer; }
.code { font: 700 2.5rem/1.2 ui-monospace, monospace; letter-spacing: .15em; }
.verified { color: #0a6b2d; font-weight: 700; }
.refused, .error { color: #a4161a; font-weight: 700; }
.muted { color: #666; }
.did { font-family: ui-monospace, monospace; word-break: break-all; }
section { margin-bottom: 2rem; }
`;

/**
 * The one script: a verification page that waits for her answer asks for its state every 1.5
 * seconds and reloads once it changed (the server renders the outcome, and audits that view).
 */
export const CONSOLE_JS = `
const box = document.querySelector('[data-state-url]');
if (box) {
  const url = box.getAttribute('data-state-url');
  const initial = box.getAttribute('data-state');
  const tick = async () => {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      if (response.ok) {
        const { state } = await response.json();
        if (state !== initial) { location.reload(); return; }
      }
    } catch { /* the next tick tries again */ }
    setTimeout(tick, 1500);
  };
  setTimeout(tick, 1500);
}
`;

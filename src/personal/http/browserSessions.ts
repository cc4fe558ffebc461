import { tokensEqual } from '../../core/bearer.js';
import { newToken } from '../../core/ids.js';

/*
 * A browser session is two secrets, and a call needs both.
 *
 * The cookie (HttpOnly) is what a browser sends by itself. But cookies are not scoped by port: her
 * browser also sends it to any other server on 127.0.0.1, and another local program listening
 * there captures it and can replay it from a plain HTTP client, forging Host and Origin at will.
 *
 * The key is what only her page holds: the sign-in answer gives it to the page, which keeps it in
 * sessionStorage (scoped by origin, port included, unlike cookies: a page of another port cannot
 * read it, and no request carries it by itself) and sends it in a header on every API call. A
 * leaked cookie without the key authenticates nothing. sessionStorage survives a reload of the tab;
 * a new tab starts without it (the web app asks its other tabs, else she signs in again).
 *
 * The key need not be the one given with this very cookie: her tabs share one cookie jar, so a
 * sign-in in another tab replaces the cookie under the tabs already open, and their keys must
 * keep working. Any live cookie with any live key is hers; a thief of the cookie has no key.
 */

export interface BrowserSession {
  /** The cookie's value. */
  readonly cookie: string;
  /** The value of the session key header (SESSION_KEY_HEADER). */
  readonly key: string;
}

/** What a request's cookie and key header amount to. */
export type SessionCheck = 'none' | 'cookie_only' | 'valid';

/** Sessions her browser holds after presenting the agent token once; they end when `kith serve` stops. */
export class BrowserSessions {
  static readonly MAX = 50;
  readonly #sessions: BrowserSession[] = [];

  /** A new session (the oldest goes beyond MAX). */
  create(): BrowserSession {
    const session = { cookie: newToken(), key: newToken() };
    this.#sessions.push(session);
    if (this.#sessions.length > BrowserSessions.MAX) this.#sessions.shift();
    return session;
  }

  /** Whether the cookie names a live session (pages, which hold no data, ask only this). */
  hasCookie(cookie: string | undefined): boolean {
    return this.#find(cookie) !== undefined;
  }

  /** `valid` when the cookie and the key are both of live sessions (see above for why not the same one). */
  check(cookie: string | undefined, key: string | undefined): SessionCheck {
    if (!this.#find(cookie)) return 'none';
    // Compared in constant time, and against every session (no early exit on a match).
    const known = key !== undefined && this.#sessions.map((session) => tokensEqual(key, session.key)).includes(true);
    return known ? 'valid' : 'cookie_only';
  }

  #find(cookie: string | undefined): BrowserSession | undefined {
    // Compared in constant time, as the token is.
    return cookie === undefined ? undefined : this.#sessions.find((known) => tokensEqual(cookie, known.cookie));
  }
}

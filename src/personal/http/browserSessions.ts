import { tokensEqual } from '../../core/bearer.js';
import { newToken } from '../../core/ids.js';

/** Sessions her browser holds after presenting the agent token once; they end when `kith serve` stops. */
export class BrowserSessions {
  static readonly MAX = 50;
  readonly #secrets: string[] = [];

  /** A new session secret (for an HttpOnly cookie); the oldest session goes beyond MAX. */
  create(): string {
    const secret = newToken();
    this.#secrets.push(secret);
    if (this.#secrets.length > BrowserSessions.MAX) this.#secrets.shift();
    return secret;
  }

  has(secret: string | undefined): boolean {
    // Compared in constant time, as the token is.
    return secret !== undefined && this.#secrets.some((known) => tokensEqual(secret, known));
  }
}

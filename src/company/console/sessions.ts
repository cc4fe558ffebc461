import { newToken } from '../../core/ids.js';

/** How long a console sign-in lasts: one working day. */
export const CONSOLE_SESSION_MS = 8 * 60 * 60_000;
/** At most this many live sessions per process; the oldest goes first. */
const MAX_SESSIONS = 1000;

export interface ConsoleSession {
  /** The operator's name as they gave it at sign-in: what the audit log records. */
  operator: string;
  expiresAt: number;
}

/**
 * The console's sign-ins, in this process's memory: a random secret (the HttpOnly cookie) per
 * operator. A restart signs everyone out; with several HTTP processes behind a load balancer, use
 * sticky sessions (docs/console.md).
 */
export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  create(operator: string): string {
    const secret = newToken();
    if (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(secret, { operator, expiresAt: this.#now() + CONSOLE_SESSION_MS });
    return secret;
  }

  get(secret: string | undefined): ConsoleSession | undefined {
    if (secret === undefined) return undefined;
    const session = this.#sessions.get(secret);
    if (!session) return undefined;
    if (this.#now() > session.expiresAt) {
      this.#sessions.delete(secret);
      return undefined;
    }
    return session;
  }

  end(secret: string | undefined): void {
    if (secret !== undefined) this.#sessions.delete(secret);
  }
}

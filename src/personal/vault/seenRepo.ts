import type { VaultContext } from './context.js';
import { timestampSchema } from './json.js';

const SCOPE = 'seen.message_id';

/**
 * Replay protection: DIDComm message ids already accepted, until they expire. The ids are random,
 * but they are stored as blind indexes anyway so the table cannot be matched against a company's logs.
 */
export class SeenRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  /** True if the id was recorded and has not expired at `now` (default: the vault clock). */
  has(messageId: string, now: number = this.#ctx.clock.now()): boolean {
    const raw = this.#ctx
      .stmt('SELECT 1 AS present FROM seen WHERE id_idx = ? AND expires_at > ?')
      .get(this.#ctx.index(SCOPE, messageId), now);
    return raw !== undefined;
  }

  /**
   * Records an id atomically (check and insert in one statement, so two deliveries of the same
   * message cannot both pass). An expired entry counts as absent and is renewed.
   * @returns false if the id is already recorded and unexpired: the message is a replay.
   */
  record(messageId: string, expiresAt: number): boolean {
    const expiry = this.#ctx.check('seen', timestampSchema, expiresAt);
    const result = this.#ctx
      .stmt(
        `INSERT INTO seen (id_idx, expires_at) VALUES (?, ?)
         ON CONFLICT (id_idx) DO UPDATE SET expires_at = excluded.expires_at WHERE seen.expires_at <= ?`,
      )
      .run(this.#ctx.index(SCOPE, messageId), expiry, this.#ctx.clock.now());
    return result.changes > 0;
  }

  /** Deletes expired entries. @returns how many. */
  prune(now: number): number {
    return this.#ctx.stmt('DELETE FROM seen WHERE expires_at <= ?').run(this.#ctx.check('seen', timestampSchema, now)).changes;
  }
}

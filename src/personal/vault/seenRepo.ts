import { z } from 'zod';
import type { VaultContext } from './context.js';
import { timestampSchema } from './json.js';

const SCOPE = 'seen.message_id';
const IDS = 'seen_ids';

/** One entry of the replay cache as an export carries it. */
export const seenEntrySchema = z.object({ messageId: z.string().min(1).max(1024), expiresAt: timestampSchema });
export type SeenEntry = z.infer<typeof seenEntrySchema>;

const idRowSchema = z.object({ id_idx: z.string(), expires_at: timestampSchema, data: z.instanceof(Buffer) });

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
    if (result.changes === 0) return false;
    // The id itself, sealed, beside its blind index: what an export carries to a new vault.
    const idIdx = this.#ctx.index(SCOPE, messageId);
    const blob = this.#ctx.seal(IDS, idIdx, seenEntrySchema, { messageId, expiresAt: expiry });
    this.#ctx
      .stmt(`INSERT INTO seen_ids (id_idx, expires_at, data) VALUES (?, ?, ?) ON CONFLICT (id_idx) DO UPDATE SET expires_at = excluded.expires_at, data = excluded.data`)
      .run(idIdx, expiry, blob);
    return true;
  }

  /** The unexpired entries whose ids are kept (every one recorded since schema version 8), soonest to expire first: for export. */
  unexpired(now: number = this.#ctx.clock.now()): SeenEntry[] {
    return this.#ctx
      .stmt('SELECT id_idx, expires_at, data FROM seen_ids WHERE expires_at > ? ORDER BY expires_at, id_idx')
      .all(now)
      .flatMap((raw) =>
        this.#ctx.readable(() => {
          const row = this.#ctx.row(IDS, idRowSchema, raw);
          return this.#ctx.open(IDS, row.id_idx, seenEntrySchema, row.data);
        }),
      );
  }

  /** Deletes expired entries. @returns how many. */
  prune(now: number): number {
    const at = this.#ctx.check('seen', timestampSchema, now);
    this.#ctx.stmt('DELETE FROM seen_ids WHERE expires_at <= ?').run(at);
    return this.#ctx.stmt('DELETE FROM seen WHERE expires_at <= ?').run(at).changes;
  }
}

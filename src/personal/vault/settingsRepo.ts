import { z } from 'zod';
import type { VaultContext } from './context.js';
import { jsonValueSchema, timestampSchema } from './json.js';

const TABLE = 'settings';
const SCOPE = 'settings.key';

/**
 * The encrypted part of a setting. The key is inside too: the plaintext column only holds its
 * blind index, and export needs the name back.
 */
export const settingDataSchema = z.object({
  key: z.string().min(1),
  value: jsonValueSchema,
});

const rowSchema = z.object({
  key_idx: z.string(),
  updated_at: timestampSchema,
  data: z.instanceof(Buffer),
});

/** Small key/value preferences (any JSON value), encrypted like everything else. */
export class SettingsRepo {
  readonly #ctx: VaultContext;

  constructor(ctx: VaultContext) {
    this.#ctx = ctx;
  }

  #decode(raw: unknown): z.infer<typeof settingDataSchema> {
    const row = this.#ctx.row(TABLE, rowSchema, raw);
    return this.#ctx.open(TABLE, row.key_idx, settingDataSchema, row.data);
  }

  /** @returns the value, or undefined if the setting was never set. */
  get(key: string): unknown {
    const raw = this.#ctx.stmt('SELECT key_idx, updated_at, data FROM settings WHERE key_idx = ?').get(this.#ctx.index(SCOPE, key));
    if (raw === undefined) return undefined;
    const data = this.#decode(raw);
    return data.key === key ? data.value : undefined;
  }

  /** @throws VaultError `vault.corrupt` if the key is empty or the value is not JSON (nothing is written). */
  set(key: string, value: unknown): void {
    const keyIdx = this.#ctx.index(SCOPE, key);
    const blob = this.#ctx.seal(TABLE, keyIdx, settingDataSchema, { key, value });
    this.#ctx.write(TABLE, () =>
      this.#ctx
        .stmt(
          `INSERT INTO settings (key_idx, updated_at, data) VALUES (?, ?, ?)
           ON CONFLICT (key_idx) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data`,
        )
        .run(keyIdx, this.#ctx.clock.now(), blob),
    );
  }

  /** @returns false if the setting did not exist. */
  delete(key: string): boolean {
    return this.#ctx.stmt('DELETE FROM settings WHERE key_idx = ?').run(this.#ctx.index(SCOPE, key)).changes > 0;
  }

  /** Every setting as a plain object (for export). */
  entries(): Record<string, unknown> {
    // fromEntries defines own properties, so a key like '__proto__' cannot reach the prototype.
    return Object.fromEntries(
      this.#ctx
        .stmt('SELECT key_idx, updated_at, data FROM settings ORDER BY rowid')
        .all()
        .flatMap((raw) =>
          this.#ctx.readable(() => {
            const { key, value } = this.#decode(raw);
            return [key, value] as const;
          }),
        ),
    );
  }
}

import { VaultError } from '../../core/errors.js';
import type { Vault } from './vault.js';

/**
 * What `kith serve` checks before it serves a vault (at start and at each unlock): that her
 * relationships, keys, settings and profile open. Why those and not every record: they are what
 * almost every command and every inbound message reads (the relationship list is in every view,
 * each message is opened and signed with the relationship's keys, the settings and profile are
 * read at start and by the fan-out), so one of them unreadable makes the agent fail on nearly
 * everything; and they are one row per relationship, key, setting or field, so the check stays
 * cheap however many messages, offers or receipts she has. The large tables are not decrypted
 * here: a corrupt message still fails closed in the command that reads it, and
 * `kith export --salvage` saves what opens.
 * @throws VaultError `vault.corrupt` naming the first unreadable table and row id (the same code and
 * words every command gives for it)
 */
export function checkVaultReadable(vault: Vault): void {
  const { skipped } = vault.salvaging(() => {
    vault.relationships.list();
    vault.keys.list();
    vault.settings.entries();
    vault.profile.everyPersona();
    vault.personas.list();
  });
  const first = skipped[0];
  if (first === undefined) return;
  throw new VaultError('vault.corrupt', `A vault record cannot be read (${first.table} row ${first.id}${skipped.length > 1 ? `, and ${skipped.length - 1} more` : ''}); \`kith export --salvage <file>\` saves every record that can be read`, {
    details: { table: first.table, id: first.id, unreadable: skipped.length },
  });
}

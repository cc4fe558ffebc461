import { VaultError } from '../core/errors.js';
import type { PersonalAgent } from './createPersonalAgent.js';

/**
 * How the local API reaches her agent. A running `kith serve` can be locked: the vault is closed,
 * its data key and her pairwise keys leave memory, and every call but unlocking fails with
 * `vault.locked` until she gives her passphrase again. The CLI's in-process client and the tests
 * use a fixed agent that is never locked.
 */
export interface AgentAccess {
  /** The unlocked agent. @throws VaultError `vault.locked` */
  current(): PersonalAgent;
  locked(): boolean;
  /**
   * Opens the vault with her passphrase and starts the agent.
   * @throws VaultError `vault.wrong_passphrase` (nothing changes), `vault.locked`-free
   */
  unlock(passphrase: string): Promise<void>;
  /** Stops the agent's background work and closes the vault. Idempotent. */
  lock(): Promise<void>;
  /** Her activity: pushes the idle lock back. */
  touch(): void;
  /** Whether this access can be locked at all (a fixed agent cannot). */
  readonly lockable: boolean;
  /**
   * Replaces her empty vault with an export (the web app's import): proves `vaultPassphrase`,
   * locks, imports into a fresh vault under the same passphrase, unlocks. Absent where the agent
   * cannot be locked.
   * @throws VaultError `vault.exists` (the vault holds relationships or profile fields),
   *   `vault.wrong_passphrase`; ExportError for an unreadable export (nothing changes)
   */
  importExport?(text: string, exportPassphrase: string, vaultPassphrase: string): Promise<{ relationships: number }>;
  /** Minutes without her use before it locks (0: never): hers, kept in her vault, else the server's default. */
  idleLockMinutes(): number;
  /** Sets it (kept in her vault, so it holds after a restart). Absent where the agent cannot be locked. */
  setIdleLockMinutes?(minutes: number): void;
}

export function fixedAccess(agent: PersonalAgent): AgentAccess {
  return {
    current: () => agent,
    locked: () => false,
    unlock: async () => undefined,
    lock: async () => {
      throw new VaultError('vault.locked', 'This agent runs without a server and cannot be locked');
    },
    touch: () => undefined,
    lockable: false,
    idleLockMinutes: () => 0,
  };
}

export function lockedError(): VaultError {
  return new VaultError('vault.locked', 'The agent is locked: unlock it with your passphrase (web app or `kith unlock`)');
}

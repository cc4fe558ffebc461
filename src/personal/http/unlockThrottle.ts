import { ApiError } from '../../core/errors.js';

/*
 * Unlocking with a wrong passphrase is slow already (the vault's key derivation), but nothing kept
 * a local process from trying passphrases without end. After a few wrong ones each further try
 * waits, twice as long each time (1 s up to 5 min); the right passphrase starts over.
 */

export const FREE_ATTEMPTS = 5;
const FIRST_WAIT_MS = 1_000;
const LONGEST_WAIT_MS = 5 * 60_000;

export interface UnlockThrottle {
  /** @throws ApiError `api.too_many_attempts` (429, details.retryAfterSeconds) while a wait runs */
  check(): void;
  failed(): void;
  succeeded(): void;
}

export function createUnlockThrottle(now: () => number = Date.now): UnlockThrottle {
  let failures = 0;
  let blockedUntil = 0;
  return {
    check() {
      const wait = blockedUntil - now();
      if (wait > 0) {
        const retryAfterSeconds = Math.ceil(wait / 1000);
        throw new ApiError('api.too_many_attempts', `Too many wrong passphrases: try again in ${retryAfterSeconds} s`, { details: { retryAfterSeconds } });
      }
    },
    failed() {
      failures += 1;
      if (failures >= FREE_ATTEMPTS) blockedUntil = now() + Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (failures - FREE_ATTEMPTS));
    },
    succeeded() {
      failures = 0;
      blockedUntil = 0;
    },
  };
}

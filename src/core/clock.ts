/** Time source, injected so tests can move time (expiry, backoff) without sleeping. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/**
 * Test hook, never for production: `KITH_CLOCK_OFFSET_MS` (an integer, may be negative) shifts
 * this process's clock, so the fault tests can run real `kith` / `kith-vendor` processes whose
 * clocks are skewed against each other's. Read once, at start; anything else in it is ignored.
 */
export function clockOffsetFrom(value: string | undefined): number {
  if (value === undefined || !/^-?\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}

const OFFSET_MS = clockOffsetFrom(typeof process === 'undefined' ? undefined : process.env['KITH_CLOCK_OFFSET_MS']);

export const systemClock: Clock = { now: () => Date.now() + OFFSET_MS };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  set(ms: number): void {
    this.#now = ms;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** DIDComm times are integer seconds since the epoch. */
export function toEpochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

import { describe, expect, it } from 'vitest';
import { FREE_ATTEMPTS, createUnlockThrottle } from './unlockThrottle.js';

describe('the unlock throttle', () => {
  const codeOf = (fn: () => void) => {
    try {
      fn();
      return undefined;
    } catch (error) {
      return error as { code: string; details: { retryAfterSeconds: number } };
    }
  };

  it('lets five wrong passphrases through, then waits 1 s, 2 s, 4 s… up to 5 min; the right one starts over', () => {
    let now = 0;
    const throttle = createUnlockThrottle(() => now);
    for (let i = 0; i < FREE_ATTEMPTS - 1; i++) {
      throttle.check();
      throttle.failed();
    }
    throttle.check();
    throttle.failed(); // the fifth
    expect(codeOf(() => throttle.check())).toMatchObject({ code: 'api.too_many_attempts', details: { retryAfterSeconds: 1 } });
    now += 1_000;
    throttle.check();
    throttle.failed();
    expect(codeOf(() => throttle.check())?.details.retryAfterSeconds).toBe(2);
    for (let i = 0; i < 20; i++) {
      now += 10 * 60_000;
      throttle.failed();
    }
    expect(codeOf(() => throttle.check())?.details.retryAfterSeconds).toBe(300);
    now += 300_000;
    throttle.succeeded();
    throttle.check();
    throttle.failed();
    expect(codeOf(() => throttle.check())).toBeUndefined();
  });
});

/** How both agents retry what could not be delivered: backoff bounds, and how long a claimed item stays leased. */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  leaseMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 5 * 60_000, leaseMs: 30_000 };

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of many items spread out. */
export function nextAttemptDelay(attempts: number, policy: RetryPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempts, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Retry with capped exponential backoff and full jitter. Pure policy + a small loop; the clock
 * and sleep are injectable so the policy is testable without waiting.
 */

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (1-based): exponential, capped, jittered by `random` ∈ [0,1). */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: number): number {
  const exp = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half jitter: never zero (no hot loop), never in lock-step with other consumers.
  return Math.round(exp / 2 + (exp / 2) * random);
}

export interface RetryHooks {
  /** Decide whether an error is worth retrying; non-retryable errors are rethrown at once. */
  isRetryable: (error: unknown) => boolean;
  /** Called before each wait: log, pause intake, heartbeat. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => Promise<void> | void;
  /** Give up (rethrow the last error) when this returns true, e.g. at shutdown deadline. */
  shouldGiveUp?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function retry<T>(
  operation: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  const random = hooks.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!hooks.isRetryable(error) || hooks.shouldGiveUp?.() === true) throw error;
      const delay = backoffDelay(attempt, policy, random());
      await hooks.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

/**
 * A token bucket per caller (API key id, or client address before authentication): `rate`
 * requests per second on average, bursts up to `burst`. In memory, per API process.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until one is available. */
  take(caller: string, now = Date.now()): number {
    if (this.rate <= 0) return 0;
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(caller, bucket);
    if (this.buckets.size > 100_000) this.buckets.clear();
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.rate);
  }
}

/**
 * A token bucket on wall-clock time, kept in the object's memory. An eviction refills it, which gives nothing away:
 * an object is only evicted after seconds without requests, by which time the bucket would have refilled anyway.
 */
export class TokenBucket {
  private tokens: number;
  private at: number | null = null;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(now: number): void {
    if (this.at !== null && now > this.at)
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    if (this.at === null || now > this.at) this.at = now;
  }

  /** Seconds until `n` tokens are there (0: they are now). Takes nothing. */
  wait(n: number, now: number): number {
    this.refill(now);
    if (n > this.burst) return Number.POSITIVE_INFINITY;
    return this.tokens >= n ? 0 : Math.ceil((n - this.tokens) / this.rate);
  }

  take(n: number, now: number): void {
    this.refill(now);
    this.tokens -= n;
  }
}

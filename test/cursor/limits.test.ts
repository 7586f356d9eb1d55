import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/cursor/limits";

describe("TokenBucket", () => {
  it("a full burst, then the refill rate; Retry-After rounds up; more than the burst never fits", () => {
    const bucket = new TokenBucket(500, 2000);
    expect(bucket.wait(1000, 0)).toBe(0);
    bucket.take(1000, 0);
    bucket.take(1000, 0);
    expect(bucket.wait(1, 0)).toBe(1);
    expect(bucket.wait(1000, 1000)).toBe(1);
    expect(bucket.wait(1000, 2000)).toBe(0);
    expect(bucket.wait(2001, 10_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("a clock that goes back refills nothing", () => {
    const bucket = new TokenBucket(500, 2000);
    bucket.take(2000, 10_000);
    expect(bucket.wait(1, 5_000)).toBe(1);
  });
});

import { describe, expect, it } from "vitest";
import { FailureDelay } from "../../src/auth/failure-delay.ts";

describe("FailureDelay", () => {
  it("lets a few failures pass, then doubles the delay up to the maximum", () => {
    const limiter = new FailureDelay({ maxDelayMs: 1000, now: () => 0 });
    const delays = Array.from({ length: 8 }, () => limiter.fail("10.0.0.1"));
    expect(delays).toEqual([0, 0, 0, 125, 250, 500, 1000, 1000]);
    // Another address is not slowed by the first one's failures.
    expect(limiter.fail("10.0.0.2")).toBe(0);
  });

  it("forgets an address once its failures are older than the window", () => {
    let now = 0;
    const limiter = new FailureDelay({ maxDelayMs: 1000, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 10; i++) limiter.fail("a");
    expect(limiter.failures("a")).toBe(10);
    now = 60_001;
    expect(limiter.failures("a")).toBe(0);
    expect(limiter.fail("a")).toBe(0);
  });

  it("does not wait at all when turned off", () => {
    const limiter = new FailureDelay({ maxDelayMs: 0 });
    for (let i = 0; i < 50; i++) expect(limiter.fail("a")).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { FailureDelay, MemoryFailureCounter } from "../../src/auth/failure-delay.ts";

describe("FailureDelay", () => {
  it("lets a few failures pass, then doubles the delay up to the maximum", async () => {
    const limiter = new FailureDelay({ maxDelayMs: 1000, now: () => 0 });
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) delays.push(await limiter.fail("10.0.0.1"));
    expect(delays).toEqual([0, 0, 0, 125, 250, 500, 1000, 1000]);
    // Another address is not slowed by the first one's failures.
    expect(await limiter.fail("10.0.0.2")).toBe(0);
  });

  it("forgets an address once its failures are older than the window", async () => {
    let now = 0;
    const counter = new MemoryFailureCounter(() => now);
    const limiter = new FailureDelay({ maxDelayMs: 1000, windowMs: 60_000, counter });
    for (let i = 0; i < 10; i++) await limiter.fail("a");
    expect(counter.failures("a", 60_000)).toBe(10);
    now = 60_001;
    expect(counter.failures("a", 60_000)).toBe(0);
    expect(await limiter.fail("a")).toBe(0);
  });

  it("does not wait at all when turned off", async () => {
    const limiter = new FailureDelay({ maxDelayMs: 0 });
    for (let i = 0; i < 50; i++) expect(await limiter.fail("a")).toBe(0);
  });

  it("waits the longest delay when the failure cannot be counted (the database out of reach)", async () => {
    const broken = {
      recordLoginFailure: () => Promise.reject(new Error("database unavailable")),
      pruneLoginFailures: () => Promise.resolve(0),
    };
    const limiter = new FailureDelay({ maxDelayMs: 700, counter: broken });
    expect(await limiter.fail("a")).toBe(700);
  });
});

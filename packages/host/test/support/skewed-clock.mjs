/**
 * Simulates a machine whose clock is off: preloaded into a `webjobs serve` process with
 * NODE_OPTIONS="--import=<this file>", it shifts `Date.now()` and `new Date()` (without
 * arguments) by WEBJOBS_TEST_CLOCK_OFFSET_MS milliseconds (negative: behind). Timers are not
 * shifted, as on a real machine whose wall clock is wrong. Plain JavaScript: Node loads it before
 * anything else, on every supported version. For tests only (test/instances/clock-skew.test.ts).
 */
const offset = Number(process.env.WEBJOBS_TEST_CLOCK_OFFSET_MS ?? "0");

if (Number.isFinite(offset) && offset !== 0) {
  const RealDate = globalThis.Date;
  const realNow = RealDate.now.bind(RealDate);
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + offset);
      else super(...args);
    }
    static now() {
      return realNow() + offset;
    }
    // Dates made by Node itself (file times…) are still dates.
    static [Symbol.hasInstance](value) {
      return value instanceof RealDate;
    }
  }
  globalThis.Date = SkewedDate;
}

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    globalSetup: ["packages/host/test/support/leak-guard.ts", "packages/host/test/support/chromium-setup.ts"],
  },
});

import { defineConfig } from "vitest/config";

/**
 * End-to-end suite: runs in Node, starts the app the way a user does (`npm start`, i.e. wrangler dev with a local D1
 * in a throwaway directory) on 127.0.0.1, and drives it over HTTP and with Chromium through playwright-core.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["./test/e2e/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    silent: "passed-only",
  },
});

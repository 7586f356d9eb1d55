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
    // expect.poll waits for what a page shows after a server answer; on a loaded machine that can take seconds
    // (the default gives up after one).
    expect: { poll: { timeout: 15_000, interval: 100 } },
    silent: "passed-only",
  },
});

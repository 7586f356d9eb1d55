import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { ensureConsole } from "./scripts/console.mjs";

// The console is a build output in public/console/ (served by the ASSETS binding the tests use): built here when
// missing or stale, so the suite runs on a fresh clone.
ensureConsole({ quiet: true });
const migrations = await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url)));

/**
 * Tests run inside workerd with the bindings from wrangler.toml: real local D1 (the same migrations wrangler applies),
 * Durable Objects, queues and crons. Only the outside world is replaced: MailChannels points at a stand-in URL.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: migrations,
          JWT_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
          SUPERUSER_EMAIL: "root@test.local",
          SUPERUSER_PASSWORD: "root-password-for-tests",
          MAILCHANNELS_API_URL: "https://mailchannels.test",
          MAILCHANNELS_API_KEY: "",
          DKIM_PRIVATE_KEY: "",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**"],
    setupFiles: ["./test/setup.ts"],
    // Request logs are useful when a test fails and noise when it passes.
    silent: "passed-only",
  },
});

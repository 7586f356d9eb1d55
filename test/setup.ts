import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file, not per test: apply the migrations once per file and use unique ids.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

import { defineConfig } from "drizzle-kit";

// Migrations are generated here and applied by wrangler (`npm run db:migrate`), never by `drizzle-kit push`.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});

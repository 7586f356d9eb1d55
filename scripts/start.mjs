// `npm start`: install what is missing, prepare local secrets, migrate and seed the local D1, serve with wrangler dev.
import { ensureDevVars, ensureToolchain, run, spawnLong } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

const { DEMO_USERS, readVars, seed } = await import("./seed.mjs");

const port = process.env.PORT || "8787";
const host = process.env.HOST || "127.0.0.1";
const persistTo = process.env.PERSIST_TO; // tests and benchmarks use a throwaway state directory
const persistArgs = persistTo ? ["--persist-to", persistTo] : [];

run("node", ["scripts/vendor.mjs"]);
const { ensureConsole } = await import("./console.mjs");
ensureConsole({ quiet: true });
const devVars = ensureDevVars();
console.log("• applying D1 migrations to the local database…");
run("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...persistArgs], {
  stdio: ["ignore", "ignore", "inherit"],
});
const vars = { ...readVars(devVars), ...pick(process.env, ["SUPERUSER_EMAIL", "SUPERUSER_PASSWORD"]) };
console.log("• making sure the superuser and the demo data exist…");
await seed({ vars, persistTo });

const base = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
console.log(`
  edge-backoffice is starting on ${base}
    console            ${base}/
    live cursor page   ${base}/capture
    API docs           ${base}/docs
    OpenAPI document   ${base}/openapi.json
    health             ${base}/health
  sign in (the console, or POST /api/v1/auth/login):
    superuser  ${vars.SUPERUSER_EMAIL} / ${vars.SUPERUSER_PASSWORD}
${DEMO_USERS.map((u) => `    ${u.role.padEnd(9)}  ${u.email} / ${u.password}`).join("\n")}
  crons: curl "${base}/cdn-cgi/handler/scheduled?cron=*+*+*+*+*"
`);

// Mail settings from the environment win over wrangler.toml and .dev.vars (the e2e suite points MailChannels at a
// local stand-in this way). PUBLIC_ORIGIN defaults to the address printed above, so the links in account mails
// work locally; set it in the environment or .dev.vars to use another.
const mailVars = Object.entries({
  PUBLIC_ORIGIN: readVars(devVars).PUBLIC_ORIGIN || base,
  ...pick(process.env, ["PUBLIC_ORIGIN", "MAILCHANNELS_API_URL", "MAILCHANNELS_API_KEY"]),
}).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
const child = spawnLong("wrangler", [
  "dev",
  "--port",
  port,
  "--ip",
  host,
  "--show-interactive-dev-session=false",
  "--test-scheduled",
  ...persistArgs,
  ...mailVars,
]);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));

function pick(source, keys) {
  return Object.fromEntries(keys.filter((k) => source[k]).map((k) => [k, source[k]]));
}

/**
 * The Worker as deployed, with one addition for the benchmarks: the queue consumer's D1 binding is wrapped so every
 * statement it runs is counted (by its first SQL keyword) and reported as one `bench.d1` log line per queue batch.
 * `fetch` is the app's own for every path but three under /__bench/ (the benchmark's floors and its seeding), so
 * request figures measured on this build are the app's, with the floors measured in the same process and run:
 *
 * - `/__bench/trivial`: a fetch handler that answers constant JSON, nothing else (the runtime's floor);
 * - `/__bench/hono`: a bare Hono app with one route answering the same JSON (the framework's floor);
 * - `/__bench/seed?table=products|tasks&rows=N`: tops the table up to N rows in one statement (list reads at scale);
 * - `/__bench/chain/<step>`: the constant route behind the app's middleware, one piece more per step (what each costs;
 *   bench/figures/edge.mjs measures them against each other in interleaved rounds).
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/env";
import worker from "../src/index";
import { log } from "../src/lib/log";
import { edge, requestContext } from "../src/middleware/edge";

export { CursorSession } from "../src/cursor/cursor-session";

type Tally = { batches: number; reads: number; writes: number; byKind: Record<string, number> };

function keyword(sql: string): string {
  return (sql.trim().match(/^\w+/)?.[0] ?? "?").toUpperCase();
}

function countingDb(db: D1Database, tally: Tally): D1Database {
  const count = (sql: string) => {
    const kind = keyword(sql);
    tally.byKind[kind] = (tally.byKind[kind] ?? 0) + 1;
    if (kind === "SELECT" || (kind === "WITH" && !/\b(insert|update|delete)\b/i.test(sql))) tally.reads += 1;
    else tally.writes += 1;
  };
  const sqlOf = new WeakMap<D1PreparedStatement, string>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    sqlOf.set(statement, sql);
    const original = {
      bind: statement.bind.bind(statement),
      run: statement.run.bind(statement),
      all: statement.all.bind(statement),
      first: statement.first.bind(statement),
      raw: statement.raw.bind(statement),
    };
    const mutable = statement as unknown as Record<string, unknown>;
    mutable.bind = (...values: unknown[]) => wrap(original.bind(...values), sql);
    for (const method of ["run", "all", "first", "raw"] as const) {
      mutable[method] = (...args: unknown[]) => {
        count(sql);
        return (original[method] as (...a: unknown[]) => unknown)(...args);
      };
    }
    return statement;
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          tally.batches += 1;
          for (const statement of statements) count(sqlOf.get(statement) ?? "?");
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const bareHono = new Hono().get("/__bench/hono", (c) => c.json({ status: "ok" }));
const CONSTANT = JSON.stringify({ status: "ok" });

const constant = (app: Hono<AppEnv>, path: string) => app.get(path, (c) => c.json({ status: "ok" }));
/** The chain built up piece by piece, each step a Hono app of its own answering the constant route. */
const CHAIN: Record<string, Hono<AppEnv>> = {
  // The log line alone, with the fields edge writes for the constant route.
  "/__bench/chain/log": constant(
    new Hono<AppEnv>().use(async (c, next) => {
      const started = Date.now();
      await next();
      log("info", "request", {
        request_id: crypto.randomUUID(),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        duration_ms: Date.now() - started,
      });
    }),
    "/__bench/chain/log",
  ),
  "/__bench/chain/edge": constant(new Hono<AppEnv>().use(edge), "/__bench/chain/edge"),
  "/__bench/chain/context": constant(new Hono<AppEnv>().use(edge, requestContext), "/__bench/chain/context"),
};

async function seed(env: Env, url: URL): Promise<Response> {
  const rows = Number(url.searchParams.get("rows"));
  const table = url.searchParams.get("table");
  const now = Date.now() - rows;
  const recursive =
    "WITH RECURSIVE n(i) AS (SELECT (SELECT count(*) FROM $T) + 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)";
  if (table === "products") {
    await env.DB.prepare(
      `INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
       ${recursive.replace("$T", "products")}
       SELECT 'bench-' || i, 'Bench product ' || i, 'Brand ' || (i % 50), i * 7 % 100000, 0, ?2 + i, ?2 + i FROM n`,
    )
      .bind(rows, now)
      .run();
  } else if (table === "tasks") {
    await env.DB.prepare(
      `INSERT INTO tasks (id, title, description, status, created_by, created_at, updated_at)
       ${recursive.replace("$T", "tasks")}
       SELECT 'bench-' || i, 'Bench task ' || i, '', 'todo', (SELECT id FROM users ORDER BY created_at LIMIT 1), ?2 + i, ?2 + i FROM n`,
    )
      .bind(rows, now)
      .run();
  } else return new Response("unknown table", { status: 400 });
  const counted = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return Response.json({ table, rows: counted?.n });
}

export default {
  fetch(request, env, ctx) {
    const { url } = request;
    const bench = url.indexOf("/__bench/");
    if (bench === -1) return worker.fetch(request, env, ctx);
    const path = url.slice(bench);
    if (path === "/__bench/trivial") return new Response(CONSTANT, { headers: { "content-type": "application/json" } });
    if (path === "/__bench/hono") return bareHono.fetch(request);
    if (path.startsWith("/__bench/seed")) return seed(env, new URL(url));
    const chain = CHAIN[path];
    if (chain) return chain.fetch(request, env, ctx);
    return worker.fetch(request, env, ctx);
  },
  scheduled: worker.scheduled,
  async queue(batch, env, ctx) {
    const tally: Tally = { batches: 0, reads: 0, writes: 0, byKind: {} };
    const types: Record<string, number> = {};
    const skus = new Set<string>();
    for (const message of batch.messages) {
      const body = message.body as { type?: unknown; sku?: unknown } | null;
      const type = String(body?.type ?? "?");
      types[type] = (types[type] ?? 0) + 1;
      if (type === "product.view") skus.add(String(body?.sku));
    }
    try {
      await worker.queue(batch, { ...env, DB: countingDb(env.DB, tally) }, ctx);
    } finally {
      console.log(
        JSON.stringify({
          message: "bench.d1",
          queue: batch.queue,
          messages: batch.messages.length,
          types,
          distinct_skus: skus.size,
          db_batches: tally.batches,
          reads: tally.reads,
          writes: tally.writes,
          by_kind: tally.byKind,
        }),
      );
    }
  },
} satisfies ExportedHandler<Env>;

/**
 * The Worker as deployed, with one addition for the benchmarks: the queue consumer's D1 binding is wrapped so every
 * statement it runs is counted (by its first SQL keyword) and reported as one `bench.d1` log line per queue batch.
 * `fetch` is the app's own, untouched, so request figures measured on this build are the app's.
 */
import worker from "../src/index";

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

export default {
  fetch: worker.fetch,
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

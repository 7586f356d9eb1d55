import { drizzle } from "drizzle-orm/d1";

export type Db = ReturnType<typeof getDb>;

/**
 * A drizzle client over D1: in a request, over the request's {@link RequestD1} (`c.var.db`, made by the
 * requestContext middleware); in queue consumers, crons and the Durable Object, over the `DB` binding. No schema is
 * passed (nothing uses drizzle's relational `db.query` API), which keeps a client cheap enough to make per request.
 */
export function getDb(d1: D1Database | RequestD1) {
  // RequestD1 has every method drizzle's d1 driver calls (prepare, batch and the statements' methods).
  return drizzle(d1 as D1Database);
}

/** What one request cost in D1: round trips (a statement or a batch each), rows read and written, time waited. */
export type D1Cost = { roundTrips: number; rowsRead: number; rowsWritten: number; ms: number };

/** A statement whose row is checked before the results of the first read it joins are handed out (see defer()). */
type Deferred = { statement: D1PreparedStatement; check: (row: Record<string, unknown> | undefined) => void };

/** D1 answers a bookmark like 00000000-00000006-00000000-<32 hex>; anything else sent back is a client error. */
export const BOOKMARK_PATTERN = /^[0-9a-f]{8}(?:-[0-9a-f]{8,64}){1,6}$/i;

/** Only a plain SELECT counts as a read the caller check may join: a `WITH …` can end in a write. */
const isRead = (sql: string) => /^\s*select\b/i.test(sql);

/**
 * Whether the result columns of a select have distinct names (so rows as objects lose nothing). Reads the select
 * list of the statement, top level only; anything it cannot read is treated as repeating.
 */
export function namesAreUnique(sql: string): boolean {
  const head = /^\s*select\s+(?:distinct\s+)?/i.exec(sql);
  if (!head) return false;
  const names = new Set<string>();
  let depth = 0;
  let quoted: string | null = null;
  let start = head[0].length;
  const add = (item: string) => {
    const text = item.trim();
    const name = /\bas\s+"([^"]+)"$/i.exec(text)?.[1] ?? /"([^"]+)"$/.exec(text)?.[1] ?? text;
    if (names.has(name)) return false;
    names.add(name);
    return true;
  };
  for (let i = start; i < sql.length; i += 1) {
    const ch = sql[i];
    if (quoted) {
      if (ch === quoted) quoted = null;
    } else if (ch === '"' || ch === "'") quoted = ch;
    else if (ch === "(") depth += 1;
    else if (ch === ")") depth -= 1;
    else if (depth === 0 && ch === ",") {
      if (!add(sql.slice(start, i))) return false;
      start = i + 1;
    } else if (depth === 0 && /\s/.test(ch ?? "") && /^\s+from\s/i.test(sql.slice(i, i + 7))) {
      return add(sql.slice(start, i));
    }
  }
  return false;
}

/**
 * The D1 of one request: a Sessions API session (`withSession`) so reads may go to a nearby replica while a bookmark
 * keeps them at least as fresh as what the client saw, metered so the response can tell its cost in Server-Timing.
 *
 * drizzle runs over it as over a binding (its d1 driver only calls prepare, batch and the statement methods): handlers
 * use it as `c.var.db`. Every executed statement and every batch is one round trip; `raw()` (what
 * drizzle runs for a select) runs as a one-statement batch because D1 returns no `meta` (rows read) for it, its rows
 * turned into arrays in column order as drizzle does for batch results, unless two result columns share a name.
 *
 * `defer()` holds one read (the caller's user row) until the request's first read-only call, which it joins as the
 * first statement of the same batch: a signed-in read is then one round trip, and the check runs before the handler
 * sees any row. A write that comes first runs the deferred read on its own before it.
 */
export class RequestD1 {
  readonly cost: D1Cost = { roundTrips: 0, rowsRead: 0, rowsWritten: 0, ms: 0 };
  #session: D1DatabaseSession | D1Database | undefined;
  #deferred: Deferred | undefined;

  constructor(
    readonly base: D1Database,
    private readonly constraintOrBookmark: string,
  ) {}

  /** The Sessions API session, started on first use: a request that never reads D1 pays nothing for it. */
  get session(): D1DatabaseSession | D1Database {
    if (!this.#session) {
      const base = this.base;
      // Test doubles of the binding may lack withSession; they then serve as their own session.
      this.#session = typeof base.withSession === "function" ? base.withSession(this.constraintOrBookmark) : base;
    }
    return this.#session;
  }

  /** The bookmark of the latest query of this session (null before the first one). */
  getBookmark(): string | null {
    return (this.#session as Partial<D1DatabaseSession> | undefined)?.getBookmark?.() ?? null;
  }

  prepare(query: string): D1PreparedStatement {
    return new MeteredStatement(this, this.session.prepare(query), query) as unknown as D1PreparedStatement;
  }

  async batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    const inner = statements.map(unwrap);
    const reads = statements.every((s) => (s instanceof MeteredStatement ? isRead(s.sql) : false));
    return this.send(inner, reads) as Promise<D1Result<T>[]>;
  }

  async exec(query: string): Promise<D1ExecResult> {
    await this.settle();
    this.cost.roundTrips += 1;
    return this.base.exec(query);
  }

  dump(): Promise<ArrayBuffer> {
    return this.base.dump();
  }

  withSession(): this {
    return this;
  }

  /** Joins `statement` to the first read-only call of this request and runs `check` on its first row. */
  defer(statement: D1PreparedStatement, check: Deferred["check"]) {
    this.#deferred = { statement: unwrap(statement), check };
  }

  get pending(): boolean {
    return this.#deferred !== undefined;
  }

  /** Runs the deferred read now, alone, if no read has taken it along yet. */
  async settle(): Promise<void> {
    if (this.#deferred) await this.send([], true);
  }

  /** One round trip: the statements (with the deferred read in front when they only read), metered. */
  async send(statements: D1PreparedStatement[], reads: boolean): Promise<D1Result[]> {
    let deferred = this.#deferred;
    if (deferred && !reads) {
      await this.send([], true);
      deferred = undefined;
    }
    if (deferred) this.#deferred = undefined;
    const all = deferred ? [deferred.statement, ...statements] : statements;
    if (all.length === 0) return [];
    const started = Date.now();
    this.cost.roundTrips += 1;
    try {
      const results = await this.session.batch(all);
      this.meter(results);
      if (deferred) {
        deferred.check((results[0]?.results as Record<string, unknown>[] | undefined)?.[0]);
        return results.slice(1);
      }
      return results;
    } finally {
      this.cost.ms += Date.now() - started;
    }
  }

  /** A single statement; joins the deferred read when it is a read itself. */
  async one(statement: MeteredStatement, method: "all" | "run"): Promise<D1Result> {
    if (this.#deferred) {
      const reads = isRead(statement.sql);
      if (reads) return (await this.send([statement.inner], true))[0] as D1Result;
      await this.send([], true);
    }
    const started = Date.now();
    this.cost.roundTrips += 1;
    try {
      const result = await statement.inner[method]();
      this.meter([result]);
      return result;
    } finally {
      this.cost.ms += Date.now() - started;
    }
  }

  /** D1's raw() for rows whose names repeat: a round trip the meter counts, without rows (raw() reports none). */
  async rawUnmetered(statement: MeteredStatement, options?: { columnNames?: boolean }): Promise<unknown[]> {
    if (this.#deferred) await this.send([], true);
    const started = Date.now();
    this.cost.roundTrips += 1;
    try {
      return options?.columnNames ? await statement.inner.raw({ columnNames: true }) : await statement.inner.raw();
    } finally {
      this.cost.ms += Date.now() - started;
    }
  }

  private meter(results: D1Result[]) {
    for (const result of results) {
      this.cost.rowsRead += result.meta?.rows_read ?? 0;
      this.cost.rowsWritten += result.meta?.rows_written ?? 0;
    }
  }
}

class MeteredStatement {
  constructor(
    readonly db: RequestD1,
    readonly inner: D1PreparedStatement,
    readonly sql: string,
  ) {}

  bind(...values: unknown[]): MeteredStatement {
    return new MeteredStatement(this.db, this.inner.bind(...values), this.sql);
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.db.one(this, "all") as Promise<D1Result<T>>;
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.db.one(this, "run") as Promise<D1Result<T>>;
  }

  async first<T = unknown>(column?: string): Promise<T | null> {
    const row = (await this.all<Record<string, unknown>>()).results[0];
    if (!row) return null;
    return (column === undefined ? row : row[column]) as T;
  }

  async raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<T[]> {
    // Rows as objects lose a column whose name repeats (a join's two `id`s): a join keeps D1's own raw(), which
    // reports no rows read (those joins that matter run in batches, which do).
    if (!namesAreUnique(this.sql)) return this.db.rawUnmetered(this, options) as Promise<T[]>;
    const [result] = await this.db.send([this.inner], isRead(this.sql));
    const rows = (result?.results ?? []) as Record<string, unknown>[];
    const arrays = rows.map((row) => Object.values(row)) as T[];
    if (!options?.columnNames) return arrays;
    return [Object.keys(rows[0] ?? {}) as T, ...arrays];
  }
}

function unwrap(statement: D1PreparedStatement): D1PreparedStatement {
  return statement instanceof MeteredStatement ? statement.inner : statement;
}

/** `d1;desc="rt=2 read=21 written=0";dur=3` (RFC: W3C Server Timing), what devtools and the benchmark read. */
export function serverTiming(cost: D1Cost): string {
  return `d1;desc="rt=${cost.roundTrips} read=${cost.rowsRead} written=${cost.rowsWritten}";dur=${cost.ms}`;
}

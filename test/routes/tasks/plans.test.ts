import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { dueQuery } from "../../../src/cron/expire-tasks";
import { getDb } from "../../../src/db/client";
import { tasks } from "../../../src/db/schema";
import type { Ordering } from "../../../src/lib/ordering";
import { countQuery, listConditions, pageQuery, type TaskFilters } from "../../../src/routes/tasks/tasks.queries";
import type { TASK_ORDERING } from "../../../src/routes/tasks/tasks.schemas";
import { createUser } from "../../helpers";

/** SQLite's own plan for a drizzle query, as one line per step. */
async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql, params } = query.toSQL();
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join("\n");
}

type Field = (typeof TASK_ORDERING)[number];

async function listPlans(filters: TaskFilters, ordering: Ordering<Field> = { field: "created_at", direction: "desc" }) {
  const db = getDb(env.DB);
  const where = await listConditions(db, filters);
  return {
    page: await plan(pageQuery(db, where, ordering, { limit: 20, offset: 0 })),
    count: await plan(countQuery(db, where)),
  };
}

describe("query plans of the task list and the expiry scan", () => {
  it("serves each filter from an index rather than a scan of the table", async () => {
    const user = await createUser("member", { username: "plan-owner" });
    expect(user.id).toBeTruthy();

    const plain = await listPlans({});
    expect(plain.page).toMatch(/SCAN tasks USING INDEX tasks_created_at_id_idx/);
    expect(plain.page).toMatch(/SEARCH users USING INDEX sqlite_autoindex_users_1 \(id=\?\)/);

    const status = await listPlans({ status: ["todo"] });
    expect(status.page).toMatch(/SEARCH tasks USING INDEX tasks_status_created_at_idx \(status=\?\)/);
    expect(status.count).toMatch(/SEARCH tasks USING COVERING INDEX tasks_status_created_at_idx \(status=\?\)/);

    const statuses = await listPlans({ status: ["todo", "in_progress"] });
    expect(statuses.page).toMatch(/SEARCH tasks USING INDEX tasks_status_created_at_idx \(status=\?\)/);

    // search resolves the creators first; the tasks are then found by created_by, never by scanning tasks.
    for (const filters of [{ search: "plan-owner" }, { search: "PLAN-OWNER", status: ["todo" as const] }]) {
      const search = await listPlans(filters);
      expect(search.page).toMatch(/SEARCH tasks USING INDEX tasks_created_by_created_at_idx \(created_by=\?\)/);
      expect(search.count).toMatch(/SEARCH tasks USING (COVERING )?INDEX tasks_created_by_created_at_idx/);
      expect(search.page).not.toMatch(/SCAN tasks/);
    }

    const window = await listPlans({ expires_after: "2020-01-01T00:00:00Z", expires_before: "2030-01-01T00:00:00Z" });
    expect(window.page).toMatch(/SEARCH tasks USING INDEX tasks_expires_at_idx \(expires_at>\? AND expires_at<\?\)/);
    expect(window.count).toMatch(/SEARCH tasks USING COVERING INDEX tasks_expires_at_idx/);

    // Orderings walk their index; only the id tie-break is sorted, within runs of equal values.
    expect((await listPlans({}, { field: "updated_at", direction: "desc" })).page).toMatch(
      /SCAN tasks USING INDEX tasks_updated_at_idx/,
    );
    expect((await listPlans({}, { field: "title", direction: "asc" })).page).toMatch(
      /SCAN tasks USING INDEX tasks_title_idx/,
    );
  });

  it("the expiry scan reads only the tasks still waiting for a notice, up to the horizon", async () => {
    const db = getDb(env.DB);
    const due = await plan(dueQuery(db, Date.now(), 40));
    expect(due).toMatch(/SEARCH tasks USING INDEX tasks_expiry_due_idx \([^)]*expires_at<\?\)/);
    expect(due).toMatch(/SEARCH users USING INDEX sqlite_autoindex_users_1 \(id=\?\)/);
  });

  it("an idle scan reads no rows for tasks already noticed or done, however many there are", async () => {
    const creator = await createUser("member");
    const now = Date.now();
    const rows = Array.from({ length: 300 }, (_, i) => ({
      id: crypto.randomUUID(),
      title: `old ${i}`,
      status: i % 3 === 0 ? ("done" as const) : ("todo" as const),
      expiresAt: now - 60_000 - i,
      notifiedFor: i % 3 === 0 ? null : now - 60_000 - i,
      createdBy: creator.id,
      createdAt: now,
      updatedAt: now,
    }));
    const db = getDb(env.DB);
    for (let i = 0; i < rows.length; i += 10) await db.insert(tasks).values(rows.slice(i, i + 10));
    const { sql, params } = dueQuery(db, now + 15 * 60_000, 40).toSQL();
    const result = await env.DB.prepare(sql)
      .bind(...params)
      .all<{ id: string }>();
    expect(result.results.filter((r) => rows.some((row) => row.id === r.id))).toEqual([]);
    // Only rows of other tests in this file that are really due can be read; never the 300 above.
    expect(result.meta.rows_read).toBeLessThan(50);
  });
});

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { EXPORT_MAX_PER_WINDOW, EXPORT_MAX_ROWS } from "../../../src/lib/export";
import { TASK_FIELDS, type Task } from "../../../src/routes/tasks/tasks.schemas";
import { csvObjects, parseCsv } from "../../csv";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

const tag = crypto.randomUUID().slice(0, 8);
let owner: TestUser;
let member: TestUser;
let admin: TestUser;

/** Every item of the list for this query, paging through it as a client does. */
async function listAll(user: TestUser, query: string): Promise<Task[]> {
  const items: Task[] = [];
  for (let offset = 0; ; offset += 100) {
    const res = await api(`/tasks?${query}&limit=100&offset=${offset}`, { token: user.token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Task[]; total: number };
    items.push(...page.items);
    if (items.length >= page.total) return items;
  }
}

async function exportCsv(user: TestUser, query: string) {
  const res = await api(`/tasks/export?${query}`, { token: user.token });
  expect(res.status, await res.clone().text()).toBe(200);
  return { res, text: await res.text() };
}

/** Tasks straight into D1 (one statement): `n` of them titled `<prefix> <i>`, status and expiry varying with i. */
async function seed(prefix: string, n: number, creator: string) {
  const base = Date.now() - n;
  await env.DB.prepare(
    `INSERT INTO tasks (id, title, description, status, expires_at, created_by, created_at, updated_at)
     WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?1)
     SELECT lower(hex(randomblob(16))), ?2 || ' ' || (i % 37), 'row ' || i,
            CASE i % 3 WHEN 0 THEN 'done' WHEN 1 THEN 'todo' ELSE 'in_progress' END,
            CASE WHEN i % 4 = 0 THEN NULL ELSE 4102444800000 + (i % 9) * 60000 END,
            ?3, ?4 + (i % 50), ?4 + i FROM k`,
  )
    .bind(n, prefix, creator, base)
    .run();
}

beforeAll(async () => {
  owner = await createUser("member", { username: `owner-${tag}`, email: `owner.${tag}@export.test` });
  member = await createUser("member");
  admin = await createUser("admin");
  // 250 rows: three pages of the export's 100, with many ties on title, created_at and expires_at, and NULL expiries.
  await seed(`Paged ${tag}`, 250, owner.id);
});

describe("GET /tasks/export: the list's rows as CSV", () => {
  it("answers an attachment of text/csv with the total, for the list's own filters", async () => {
    const { res, text } = await exportCsv(member, `q=Paged ${tag}&status=todo`);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8; header=present");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="tasks-\d{4}-\d{2}-\d{2}\.csv"$/);
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    const rows = csvObjects(text);
    const listed = await listAll(member, `q=Paged ${tag}&status=todo`);
    expect(listed.length).toBeGreaterThan(50);
    expect(res.headers.get("x-total-count")).toBe(String(listed.length));
    expect(rows.map((r) => r.id)).toEqual(listed.map((t) => t.id));
    expect(rows.every((r) => r.status === "todo")).toBe(true);
    expect(parseCsv(text)[0]).toEqual([
      "id",
      "title",
      "description",
      "status",
      "expires_at",
      "created_by_id",
      "created_by_username",
      "created_at",
      "updated_at",
    ]);
    const first = listed[0]!;
    expect(rows[0]).toEqual({
      id: first.id,
      title: first.title,
      description: first.description,
      status: "todo",
      expires_at: first.expires_at ?? "",
      created_by_id: owner.id,
      created_by_username: owner.username,
      created_at: first.created_at,
      updated_at: first.updated_at,
    });
  });

  it.each([
    "ordering=expires_at",
    "ordering=-expires_at",
    "ordering=title",
    "ordering=-title",
    "ordering=created_at",
    "ordering=-updated_at",
  ])("walks every page in the list's order without a gap or a repeat (%s)", async (ordering) => {
    const query = `q=Paged ${tag}&${ordering}`;
    const { text } = await exportCsv(member, query);
    const exported = csvObjects(text).map((r) => r.id);
    expect(exported).toHaveLength(250);
    expect(new Set(exported).size).toBe(250);
    expect(exported).toEqual((await listAll(member, query)).map((t) => t.id));
  });

  it("keeps the columns `fields` or `omit` choose, in list order", async () => {
    const { text } = await exportCsv(member, `q=Paged ${tag}&fields=status,created_by,title`);
    expect(parseCsv(text)[0]).toEqual(["title", "status", "created_by_id", "created_by_username"]);
    const omitted = await exportCsv(member, `q=Paged ${tag}&omit=description,created_by,updated_at`);
    expect(parseCsv(omitted.text)[0]).toEqual(["id", "title", "status", "expires_at", "created_at"]);
  });

  it("writes text a spreadsheet would run as a formula as text, and quotes what RFC 4180 asks", async () => {
    const titles = [
      '=HYPERLINK("http://evil.test","invoice")',
      "+cmd|' /C calc'!A0",
      "-2+3",
      "@SUM(A1:A9)",
      'Commas, quotes "and" all',
    ];
    const ids: string[] = [];
    for (const title of titles) {
      const res = await api("/tasks", {
        method: "POST",
        token: owner.token,
        // Titles are trimmed; a description keeps a leading tab.
        json: { title: `${title} ${tag}x`, description: "\t=cmd\r\nline two\n=still text" },
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as Task).id);
    }
    const { text } = await exportCsv(owner, `q=${encodeURIComponent(`${tag}x`)}&ordering=created_at`);
    const rows = csvObjects(text);
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(rows.map((r) => r.title)).toEqual([
      `'=HYPERLINK("http://evil.test","invoice") ${tag}x`,
      `'+cmd|' /C calc'!A0 ${tag}x`,
      `'-2+3 ${tag}x`,
      `'@SUM(A1:A9) ${tag}x`,
      `Commas, quotes "and" all ${tag}x`,
    ]);
    expect(rows.every((r) => r.description === "'\t=cmd\r\nline two\n=still text")).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.test"",""invoice"") ${tag}x"`);
  });

  it("answers just the header when nothing matches, also for a search that matches no user", async () => {
    for (const query of [`q=nothing-${tag}`, `search=nobody-${tag}`]) {
      const { res, text } = await exportCsv(member, query);
      expect(res.headers.get("x-total-count")).toBe("0");
      expect(parseCsv(text)).toHaveLength(1);
    }
  });
});

describe("GET /tasks/export: refusals", () => {
  it("needs a signed-in caller", async () => {
    await expectProblem(await api("/tasks/export"), 401);
  });

  it("refuses what the list refuses: unknown ordering, unknown fields, a bad status, no field left", async () => {
    const everyField = `omit=${TASK_FIELDS.join(",")}`;
    for (const query of ["ordering=secret", "fields=id,password", "status=lost", "expires_before=soon", everyField]) {
      await expectProblem(await api(`/tasks/export?${query}`, { token: member.token }), 400);
    }
  });

  it("gives a member no more than the list does: an email fragment finds nothing, as in the list", async () => {
    const fragment = `search=owner.${tag}%40export`;
    expect((await exportCsv(admin, `${fragment}&status=done`)).res.headers.get("x-total-count")).not.toBe("0");
    const forMember = await exportCsv(member, `${fragment}&status=done`);
    expect(forMember.res.headers.get("x-total-count")).toBe("0");
    expect(parseCsv(forMember.text)).toHaveLength(1);
  });

  it(`refuses a filter that matches more than ${EXPORT_MAX_ROWS} rows, and counts no export for it`, async () => {
    const big = await createUser("member");
    await seed(`Bulk ${tag}`, EXPORT_MAX_ROWS + 1, big.id);
    const problem = await expectProblem(
      await api(`/tasks/export?q=${encodeURIComponent(`Bulk ${tag}`)}`, { token: big.token }),
      400,
    );
    expect(problem).toMatchObject({ total: EXPORT_MAX_ROWS + 1, max_rows: EXPORT_MAX_ROWS });
    expect(problem.detail).toMatch(/Narrow the filters/);
    const counted = await env.DB.prepare("SELECT count(*) AS n FROM rate_limits WHERE key = ?")
      .bind(`export:user:${big.id}`)
      .first<{ n: number }>();
    expect(counted?.n).toBe(0);
    // A narrower filter over the same rows streams every one of them (about a third: dozens of pages).
    const { res, text } = await exportCsv(big, `q=${encodeURIComponent(`Bulk ${tag}`)}&status=done&fields=id`);
    const total = Number(res.headers.get("x-total-count"));
    expect(total).toBe(Math.floor((EXPORT_MAX_ROWS + 1) / 3));
    const ids = csvObjects(text).map((r) => r.id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  });

  it(`allows ${EXPORT_MAX_PER_WINDOW} exports per caller per window, then 429 with Retry-After; others go on`, async () => {
    const busy = await createUser("member");
    const results = await Promise.all(
      Array.from({ length: EXPORT_MAX_PER_WINDOW + 5 }, () =>
        api(`/tasks/export?q=nothing-${tag}`, { token: busy.token }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(EXPORT_MAX_PER_WINDOW);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const refused = results.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    await expectProblem(refused, 429);
    for (const r of results) if (r.status === 200) await r.body?.cancel();
    // Another caller is not affected, and the list itself is not limited by exports.
    expect((await api(`/tasks/export?q=nothing-${tag}`, { token: member.token })).status).toBe(200);
    expect((await api("/tasks?limit=1", { token: busy.token })).status).toBe(200);
  });

  it("ends with the caller: a deleted user's token exports nothing", async () => {
    const gone = await createUser("member");
    await env.DB.prepare("UPDATE users SET deleted_at = ? WHERE id = ?").bind(Date.now(), gone.id).run();
    await expectProblem(await api("/tasks/export", { token: gone.token }), 401);
  });
});

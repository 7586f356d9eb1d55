import { describe, expect, it } from "vitest";
import { TASK_FIELDS, type Task } from "../../../src/routes/tasks/tasks.schemas";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Page = { items: Partial<Task>[]; total: number; limit: number; offset: number };

async function list(user: TestUser, query: string): Promise<Page> {
  const res = await api(`/tasks?${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

async function create(user: TestUser, json: Record<string, unknown>): Promise<Task> {
  const res = await api("/tasks", { method: "POST", token: user.token, json });
  expect(res.status).toBe(201);
  return (await res.json()) as Task;
}

const tag = crypto.randomUUID().slice(0, 6);
const at = (day: number) => new Date(Date.UTC(2099, 0, day)).toISOString();

describe("GET /tasks", () => {
  it("filters, orders, pages and selects fields together", async () => {
    // Two creators found by search (one by username, one by email, case-insensitively) and a third who is not.
    const ann = await createUser("member", { username: `Ann-${tag}`, email: `ann.${tag}@one.test` });
    const ben = await createUser("member", { username: `ben-${tag}`, email: `BEN.Writes.${tag}@two.test` });
    const cat = await createUser("member", { username: `cat-${tag}`, email: `cat.${tag}@three.test` });

    const a1 = await create(ann, { title: "Order lamps", status: "todo", expires_at: at(3) });
    const a2 = await create(ann, { title: "order desks", status: "in_progress", expires_at: at(1) });
    const a3 = await create(ann, { title: "Pay rent", status: "done", expires_at: at(2) });
    const b1 = await create(ben, { title: "Reorder chairs", status: "todo" });
    const b2 = await create(ben, { title: "Call supplier", status: "in_progress", expires_at: at(5) });
    await create(cat, { title: "Order pens", status: "todo", expires_at: at(4) });

    // search by username fragment (any case) finds only Ann's tasks, newest first by default.
    const byAnn = await list(cat, `search=ANN-${tag}`);
    expect(byAnn.total).toBe(3);
    expect(byAnn.items.map((t) => t.id)).toEqual([a3.id, a2.id, a1.id]);

    // An email fragment finds Ben's for an admin; a member, who never sees emails, must give the whole address (any
    // case), so no member can spell out a colleague's email from which searches return tasks.
    const admin = await createUser("admin");
    const byBen = await list(admin, `search=writes.${tag.toUpperCase()}`);
    expect(byBen.items.map((t) => t.id).sort()).toEqual([b1.id, b2.id].sort());
    expect((await list(cat, `search=writes.${tag.toUpperCase()}`)).total).toBe(0);
    expect((await list(cat, `search=BEN.Writes.${tag}%40two.test`)).total).toBe(2);
    expect(
      (await list(cat, `search=${encodeURIComponent(`ben.writes.${tag}@TWO.test`)}`)).items.map((t) => t.id).sort(),
    ).toEqual([b1.id, b2.id].sort());

    // several statuses, comma-separated or repeated, combined with q (case-insensitive title substring).
    const both = `search=${tag}&q=ORDER`;
    const open1 = await list(ann, `${both}&status=todo,in_progress&ordering=title`);
    const open2 = await list(ann, `${both}&status=todo&status=in_progress&ordering=title`);
    expect(open1).toEqual(open2);
    expect(open1.items.map((t) => t.title)).toEqual(["Order lamps", "Order pens", "Reorder chairs", "order desks"]);
    expect(open1.total).toBe(4);

    // expiry window (exclusive both ends) ordered by expiry; tasks without an expiry never match a window.
    const window = await list(ann, `search=${tag}&expires_after=${at(1)}&expires_before=${at(5)}&ordering=expires_at`);
    expect(window.items.map((t) => t.id)).toEqual([a3.id, a1.id, expect.any(String)]);
    expect(window.items[2]?.title).toBe("Order pens");

    // ordering by expiry puts tasks without one last, in either direction.
    const asc = await list(ann, `search=${tag}&ordering=expires_at`);
    expect(asc.items.map((t) => t.expires_at)).toEqual([at(1), at(2), at(3), at(4), at(5), null]);
    const desc = await list(ann, `search=${tag}&ordering=-expires_at`);
    expect(desc.items.map((t) => t.expires_at)).toEqual([at(5), at(4), at(3), at(2), at(1), null]);

    // paging keeps the total and walks the whole ordered set without gaps or repeats; fields trims each item.
    const pages: Partial<Task>[] = [];
    for (let offset = 0; offset < 6; offset += 4) {
      const page = await list(ann, `search=${tag}&ordering=-title&limit=4&offset=${offset}&fields=id,title`);
      expect(page).toMatchObject({ total: 6, limit: 4, offset });
      for (const item of page.items) expect(Object.keys(item).sort()).toEqual(["id", "title"]);
      pages.push(...page.items);
    }
    expect(pages.map((t) => t.title)).toEqual([
      "order desks",
      "Reorder chairs",
      "Pay rent",
      "Order pens",
      "Order lamps",
      "Call supplier",
    ]);
    const past = await list(ann, `search=${tag}&offset=10`);
    expect(past).toEqual({ items: [], total: 6, limit: 20, offset: 10 });

    // omit drops keys; created_by carries the username.
    const omitted = await list(ann, `search=Ben-${tag}&omit=description,updated_at,created_at&ordering=created_at`);
    expect(omitted.items[0]).toEqual({
      id: b1.id,
      title: "Reorder chairs",
      status: "todo",
      expires_at: null,
      created_by: { id: ben.id, username: ben.username },
    });

    // a search that matches nobody is an empty page, not an error.
    expect(await list(ann, `search=nobody-${tag}`)).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
  });

  it("breaks ties by id so equal timestamps page stably", async () => {
    const dee = await createUser("member", { username: `dee-${tag}` });
    // The same title five times: ordering by title is all ties, so the id decides.
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await create(dee, { title: "Same" }));
    const ids = made.map((t) => t.id).sort();
    const seen: string[] = [];
    for (let offset = 0; offset < 5; offset += 2) {
      const page = await list(dee, `search=dee-${tag}&ordering=title&limit=2&offset=${offset}&fields=id`);
      seen.push(...page.items.map((t) => t.id!));
    }
    expect(seen).toEqual(ids);
    const reversed = await list(dee, `search=dee-${tag}&ordering=-title&fields=id`);
    expect(reversed.items.map((t) => t.id)).toEqual([...ids].reverse());
  });

  it("answers 400 for bad query parameters and 401 without a token", async () => {
    const eve = await createUser();
    const cases: [string, string][] = [
      ["status=todo,blocked", "status"],
      ["status=", "status"],
      ["ordering=priority", "ordering"],
      ["ordering=-description", "ordering"],
      ["fields=id,secret", "fields"],
      ["omit=password", "omit"],
      [`omit=${TASK_FIELDS.join(",")}`, "omit"],
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["offset=-1", "offset"],
      ["limit=abc", "limit"],
      ["expires_before=yesterday", "expires_before"],
      ["expires_after=2099-13-01T00:00:00Z", "expires_after"],
      [`q=${"x".repeat(201)}`, "q"],
    ];
    for (const [query, path] of cases) {
      const body = await expectProblem(await api(`/tasks?${query}`, { token: eve.token }), 400);
      expect(
        body.errors?.map((e) => e.path),
        query,
      ).toContain(path);
    }
    await expectProblem(await api("/tasks"), 401);
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../../../src/db/client";
import { notifications } from "../../../src/db/schema";
import { type MailMessage, notificationStatements } from "../../../src/mail/enqueue";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Notification = {
  id: string;
  kind: string;
  title: string;
  body: string;
  entity_type: string | null;
  entity_id: string | null;
  payload: Record<string, unknown> | null;
  read: boolean;
  read_at: string | null;
  created_at: string;
};
type Page = { items: Notification[]; total: number; limit: number; offset: number };

const task = (title: string): MailMessage => ({
  kind: "task.expiring",
  task: { id: crypto.randomUUID(), title, expiresAt: Date.UTC(2026, 0, 1) },
});

/** Notifications written straight to D1 (with their outbox rows, no queue message), `at` apart in time. */
async function seed(user: TestUser, titles: string[], start = 1_750_000_000_000) {
  const db = getDb(env.DB);
  for (const [i, title] of titles.entries()) {
    const { statements } = notificationStatements(db, env, user, task(title), undefined, start + i * 1000);
    await db.batch([statements[0]!, ...statements.slice(1)]);
  }
}

async function listOf(user: TestUser, query = ""): Promise<Page> {
  const res = await api(`/notifications${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("GET /notifications", () => {
  it("lists only the caller's own notifications, newest first", async () => {
    const [me, other] = [await createUser(), await createUser()];
    await seed(me, ["first", "second", "third"]);
    await seed(other, ["not mine"]);
    const page = await listOf(me);
    expect(page.total).toBe(3);
    expect(page.items.map((n) => n.title)).toEqual([
      "Task expiring: third",
      "Task expiring: second",
      "Task expiring: first",
    ]);
    expect(page.items[0]).toMatchObject({
      kind: "task.expiring",
      entity_type: "task",
      read: false,
      read_at: null,
      body: 'The task "third" expires at 2026-01-01 00:00 UTC.',
    });
    expect(page.items[0]!.payload).toMatchObject({ task: { title: "third" } });
    expect(page.items[0]!.created_at).toBe(new Date(1_750_000_002_000).toISOString());
  });

  it("pages with limit and offset", async () => {
    const me = await createUser();
    await seed(me, ["a", "b", "c", "d", "e"]);
    const page = await listOf(me, "?limit=2&offset=2");
    expect(page).toMatchObject({ total: 5, limit: 2, offset: 2 });
    expect(page.items.map((n) => n.title)).toEqual(["Task expiring: c", "Task expiring: b"]);
  });

  it("filters unread=true and unread=false", async () => {
    const me = await createUser();
    await seed(me, ["one", "two", "three"]);
    const all = await listOf(me);
    const res = await api(`/notifications/${all.items[1]!.id}/read`, { method: "POST", token: me.token });
    expect(res.status).toBe(200);
    const unread = await listOf(me, "?unread=true");
    expect(unread.total).toBe(2);
    expect(unread.items.map((n) => n.title)).toEqual(["Task expiring: three", "Task expiring: one"]);
    const read = await listOf(me, "?unread=false");
    expect(read.items.map((n) => n.title)).toEqual(["Task expiring: two"]);
  });

  it("rejects a bad query with a 400 and an anonymous caller with a 401", async () => {
    const me = await createUser();
    const bad = await expectProblem(await api("/notifications?unread=maybe", { token: me.token }), 400);
    expect(bad.errors?.[0]?.path).toBe("unread");
    await expectProblem(await api("/notifications?limit=0", { token: me.token }), 400);
    await expectProblem(await api("/notifications"), 401);
    await expectProblem(await api("/notifications", { token: "not-a-jwt" }), 401);
  });
});

describe("POST /notifications/{id}/read", () => {
  it("marks my notification read once and keeps the first read time", async () => {
    const me = await createUser();
    await seed(me, ["read me"]);
    const [n] = (await listOf(me)).items;
    const first = (await (
      await api(`/notifications/${n!.id}/read`, { method: "POST", token: me.token })
    ).json()) as Notification;
    expect(first).toMatchObject({ id: n!.id, read: true });
    expect(first.read_at).not.toBeNull();
    const again = await api(`/notifications/${n!.id}/read`, { method: "POST", token: me.token });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Notification).read_at).toBe(first.read_at);
  });

  it("answers 404 for someone else's notification and leaves it unread", async () => {
    const [me, other] = [await createUser(), await createUser("admin")];
    await seed(other, ["private"]);
    const [theirs] = (await listOf(other)).items;
    await expectProblem(await api(`/notifications/${theirs!.id}/read`, { method: "POST", token: me.token }), 404);
    const rows = await getDb(env.DB).select().from(notifications);
    expect(rows.find((r) => r.id === theirs!.id)?.readAt).toBeNull();
  });

  it("answers 404 for an unknown id, 400 for a malformed one, 401 without a token", async () => {
    const me = await createUser();
    await expectProblem(
      await api(`/notifications/${crypto.randomUUID()}/read`, { method: "POST", token: me.token }),
      404,
    );
    await expectProblem(await api("/notifications/not-a-uuid/read", { method: "POST", token: me.token }), 400);
    await expectProblem(await api(`/notifications/${crypto.randomUUID()}/read`, { method: "POST" }), 401);
  });
});

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../../../src/db/client";
import { type MailMessage, mailStatements } from "../../../src/mail/enqueue";
import { api, createUser, expectProblem, type TestUser } from "../../helpers";

type Item = {
  id: string;
  recipient_email: string;
  subject: string;
  kind: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
};
type Page = { items: Item[]; total: number; limit: number; offset: number };

const HOSTILE = `<img src=x onerror="alert(1)">`;
const product = (name: string): MailMessage => ({
  kind: "product.changed",
  action: "create",
  actor: { id: "a", username: "admin" },
  product: { sku: crypto.randomUUID(), name, brand: "Acme", price: "9.99" },
  changes: { name: { from: null, to: name } },
});
const task: MailMessage = { kind: "task.expired", task: { id: crypto.randomUUID(), title: "Old", expiresAt: 0 } };

let admin: TestUser;
let superuser: TestUser;
let member: TestUser;
const ids: Record<string, string> = {};

beforeAll(async () => {
  [admin, superuser, member] = [await createUser("admin"), await createUser("superuser"), await createUser("member")];
  // Rows straight into D1, no queue message: their statuses are set here and nothing else touches them.
  const db = getDb(env.DB);
  const rows: [string, MailMessage, string, number, string | null][] = [
    ["queued", task, "queued", 0, null],
    ["sent", product("Lamp"), "sent", 1, null],
    ["failed", product(HOSTILE), "failed", 1, "HTTP 400: bad sender"],
    ["retrying", task, "retrying", 2, "HTTP 503: busy"],
  ];
  for (const [i, [name, message, status, attempts, lastError]] of rows.entries()) {
    const prepared = mailStatements(
      db,
      env,
      [{ email: `${name}@example.com` }],
      message,
      undefined,
      1_800_000_000_000 + i,
    );
    await db.batch([prepared.statements[0]!]);
    const id = prepared.queueMessages[0]!.body.id;
    ids[name] = id;
    await env.DB.prepare("UPDATE outbox SET status = ?, attempts = ?, last_error = ? WHERE id = ?")
      .bind(status, attempts, lastError, id)
      .run();
  }
});

async function list(query = "", user = admin): Promise<Page> {
  const res = await api(`/admin/outbox${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("GET /admin/outbox", () => {
  it("lists every mail newest first with its status, tries and last error", async () => {
    const page = await list();
    expect(page.total).toBe(4);
    expect(page.items.map((i) => i.recipient_email)).toEqual([
      "retrying@example.com",
      "failed@example.com",
      "sent@example.com",
      "queued@example.com",
    ]);
    expect(page.items[1]).toMatchObject({
      id: ids.failed,
      kind: "product.changed",
      status: "failed",
      attempts: 1,
      last_error: "HTTP 400: bad sender",
      subject: `Product created: ${HOSTILE}`,
      created_at: new Date(1_800_000_000_002).toISOString(),
    });
    expect(page.items[1]).not.toHaveProperty("html_body");
  });

  it("filters by status and by kind, and pages", async () => {
    expect((await list("?status=failed")).items.map((i) => i.id)).toEqual([ids.failed]);
    const tasks = await list("?kind=task.expired");
    expect(tasks.items.map((i) => i.id)).toEqual([ids.retrying, ids.queued]);
    expect((await list("?kind=product.changed&status=sent")).items.map((i) => i.id)).toEqual([ids.sent]);
    expect((await list("?kind=nothing")).total).toBe(0);
    const paged = await list("?limit=1&offset=1&ordering=created_at");
    expect(paged).toMatchObject({ total: 4, limit: 1, offset: 1 });
    expect(paged.items.map((i) => i.id)).toEqual([ids.sent]);
    expect((await list("?ordering=-attempts")).items[0]!.id).toBe(ids.retrying);
  });

  it("is for admins and the superuser only", async () => {
    expect((await list("", superuser)).total).toBe(4);
    await expectProblem(await api("/admin/outbox", { token: member.token }), 403);
    await expectProblem(await api("/admin/outbox"), 401);
  });

  it("answers 400 for an unknown status or ordering", async () => {
    const bad = await expectProblem(await api("/admin/outbox?status=lost", { token: admin.token }), 400);
    expect(bad.errors?.[0]?.path).toBe("status");
    await expectProblem(await api("/admin/outbox?ordering=subject", { token: admin.token }), 400);
    await expectProblem(await api("/admin/outbox?limit=101", { token: admin.token }), 400);
  });
});

describe("GET /admin/outbox/{id}", () => {
  it("shows the bodies, with a hostile product name escaped in the HTML", async () => {
    const res = await api(`/admin/outbox/${ids.failed}`, { token: admin.token });
    expect(res.status).toBe(200);
    const mail = (await res.json()) as Item & { text_body: string; html_body: string };
    expect(mail.html_body).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(mail.html_body).not.toContain("<img");
    expect(mail.text_body).toContain(HOSTILE);
  });

  it("answers 404, 400, 403 and 401 as it should", async () => {
    await expectProblem(await api(`/admin/outbox/${crypto.randomUUID()}`, { token: admin.token }), 404);
    await expectProblem(await api("/admin/outbox/nope", { token: admin.token }), 400);
    await expectProblem(await api(`/admin/outbox/${ids.sent}`, { token: member.token }), 403);
    await expectProblem(await api(`/admin/outbox/${ids.sent}`), 401);
  });
});

import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { api, createUser, expectProblem, type TestUser, tableCounts } from "../../helpers";

// Every admin of this file is created here, so "every other admin and the superuser" is known exactly.
let alice: TestUser; // admin, the actor of most changes
let bob: TestUser; // admin
let root: TestUser; // superuser
let member: TestUser;
let retired: TestUser; // a deleted admin: never mailed

type HistoryEntry = {
  id: string;
  sku: string;
  action: "create" | "update" | "delete";
  actor: { id: string; username: string | null };
  changes: Record<string, { from: unknown; to: unknown }>;
  created_at: string;
};
type Page<T> = { items: T[]; total: number; limit: number; offset: number };

/** The tables a product write touches (see tableCounts for why not all of them). */
const catalogCounts = () => tableCounts(["products", "product_history", "outbox"]);

beforeAll(async () => {
  alice = await createUser("admin");
  bob = await createUser("admin");
  root = await createUser("superuser");
  member = await createUser("member");
  retired = await createUser("admin");
  await env.DB.prepare("UPDATE users SET deleted_at = ? WHERE id = ?").bind(Date.now(), retired.id).run();
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function history(sku: string, query = ""): Promise<Page<HistoryEntry>> {
  const res = await api(`/products/${sku}/history${query}`, { token: bob.token });
  expect(res.status).toBe(200);
  return (await res.json()) as Page<HistoryEntry>;
}

/** The outbox rows written together with one history entry (same sku, same timestamp). */
async function mailsFor(entry: HistoryEntry) {
  const { results } = await env.DB.prepare(
    "SELECT id, recipient_email, recipient_name, subject, text_body, kind, entity_type FROM outbox WHERE entity_id = ? AND created_at = ? ORDER BY recipient_email",
  )
    .bind(entry.sku, Date.parse(entry.created_at))
    .all<{
      id: string;
      recipient_email: string;
      recipient_name: string;
      subject: string;
      text_body: string;
      kind: string;
      entity_type: string;
    }>();
  return results;
}

const emails = (...users: TestUser[]) => users.map((u) => u.email.toLowerCase()).sort();

describe("history and notices", () => {
  it("records each change with its actor and mails exactly the other admins and the superuser", async () => {
    const sendBatch = vi.spyOn(env.MAIL_QUEUE, "sendBatch");

    // create (alice)
    const created = await api("/products", {
      method: "POST",
      token: alice.token,
      json: { name: "Standing Desk", brand: "Lift", price: 12.5 },
    });
    expect(created.status).toBe(201);
    const { sku } = (await created.json()) as { sku: string };
    let [entry] = (await history(sku)).items;
    expect(entry).toMatchObject({
      sku,
      action: "create",
      actor: { id: alice.id, username: alice.username },
      changes: {
        name: { from: null, to: "Standing Desk" },
        brand: { from: null, to: "Lift" },
        price: { from: null, to: 12.5 },
      },
    });
    let mails = await mailsFor(entry!);
    expect(mails.map((m) => m.recipient_email)).toEqual(emails(bob, root));
    expect(mails[0]).toMatchObject({
      kind: "product.changed",
      entity_type: "product",
      subject: "Product created: Standing Desk",
    });
    expect(mails[0]!.text_body).toContain("12.50");
    expect(mails[0]!.text_body).toContain(alice.username);
    // The queue messages point at exactly these outbox rows.
    const queued = sendBatch.mock.calls.flatMap(([messages]) =>
      [...messages].map((m) => (m.body as { id: string }).id),
    );
    expect(queued.sort()).toEqual(mails.map((m) => m.id).sort());

    // PATCH price (bob): only the price is recorded
    expect(
      (await api(`/products/${sku}`, { method: "PATCH", token: bob.token, json: { price: 13, name: "Standing Desk" } }))
        .status,
    ).toBe(200);
    [entry] = (await history(sku)).items;
    expect(entry).toMatchObject({
      action: "update",
      actor: { id: bob.id, username: bob.username },
      changes: { price: { from: 12.5, to: 13 } },
    });
    expect(Object.keys(entry!.changes)).toEqual(["price"]);
    mails = await mailsFor(entry!);
    expect(mails.map((m) => m.recipient_email)).toEqual(emails(alice, root));
    expect(mails[0]!.subject).toBe("Product updated: Standing Desk");
    expect(mails[0]!.text_body).toMatch(/price: 12\.50 -> 13\.00/);

    // PUT name and brand (the superuser): the unchanged price is not recorded
    expect(
      (
        await api(`/products/${sku}`, {
          method: "PUT",
          token: root.token,
          json: { name: "Sit-Stand Desk", brand: "Lift Co", price: 13 },
        })
      ).status,
    ).toBe(200);
    [entry] = (await history(sku)).items;
    expect(entry).toMatchObject({
      action: "update",
      actor: { id: root.id },
      changes: { name: { from: "Standing Desk", to: "Sit-Stand Desk" }, brand: { from: "Lift", to: "Lift Co" } },
    });
    expect(entry!.changes).not.toHaveProperty("price");
    expect((await mailsFor(entry!)).map((m) => m.recipient_email)).toEqual(emails(alice, bob));

    // A change that changes nothing records and mails nothing
    const before = await catalogCounts();
    expect((await api(`/products/${sku}`, { method: "PATCH", token: alice.token, json: { price: 13.0 } })).status).toBe(
      200,
    );
    expect(await catalogCounts()).toEqual(before);

    // DELETE (alice): still readable afterwards, newest first
    expect((await api(`/products/${sku}`, { method: "DELETE", token: alice.token })).status).toBe(204);
    const after = await history(sku);
    expect(after.total).toBe(4);
    expect(after.items.map((e) => e.action)).toEqual(["delete", "update", "update", "create"]);
    expect(after.items[0]).toMatchObject({
      actor: { id: alice.id },
      changes: {
        name: { from: "Sit-Stand Desk", to: null },
        brand: { from: "Lift Co", to: null },
        price: { from: 13, to: null },
      },
    });
    mails = await mailsFor(after.items[0]!);
    expect(mails.map((m) => m.recipient_email)).toEqual(emails(bob, root));
    expect(mails[0]!.subject).toBe("Product deleted: Sit-Stand Desk");

    // Nobody else was ever mailed about this product: not the member, not the deleted admin.
    const { results } = await env.DB.prepare("SELECT DISTINCT recipient_email AS email FROM outbox WHERE entity_id = ?")
      .bind(sku)
      .all<{ email: string }>();
    expect(results.map((r) => r.email).sort()).toEqual(emails(alice, bob, root));
    expect(results.map((r) => r.email)).not.toContain(member.email.toLowerCase());
    expect(results.map((r) => r.email)).not.toContain(retired.email.toLowerCase());
  });

  it("pages the history", async () => {
    const res = await api("/products", {
      method: "POST",
      token: alice.token,
      json: { name: "P", brand: "B", price: 1 },
    });
    const { sku } = (await res.json()) as { sku: string };
    for (const price of [2, 3, 4]) {
      await api(`/products/${sku}`, { method: "PATCH", token: alice.token, json: { price } });
    }
    const first = await history(sku, "?limit=2");
    expect(first).toMatchObject({ total: 4, limit: 2, offset: 0 });
    expect(first.items.map((e) => e.changes.price)).toEqual([
      { from: 3, to: 4 },
      { from: 2, to: 3 },
    ]);
    const second = await history(sku, "?limit=2&offset=2");
    expect(second.items.map((e) => e.action)).toEqual(["update", "create"]);
    await expectProblem(await api(`/products/${sku}/history?limit=0`, { token: alice.token }), 400);
  });

  it("a product with no recorded changes (seeded) has an empty history; an unknown sku is 404", async () => {
    const sku = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at) VALUES (?, 'Seeded', 'S', 100, 0, 0, 0)",
    )
      .bind(sku)
      .run();
    expect(await history(sku)).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
    await expectProblem(await api(`/products/${crypto.randomUUID()}/history`, { token: alice.token }), 404);
  });

  it("a rejected write records and mails nothing", async () => {
    const before = await catalogCounts();
    await expectProblem(
      await api("/products", { method: "POST", token: alice.token, json: { name: "X", brand: "Y", price: -1 } }),
      422,
    );
    await expectProblem(
      await api("/products", { method: "POST", token: member.token, json: { name: "X", brand: "Y", price: 1 } }),
      403,
    );
    expect(await catalogCounts()).toEqual(before);
  });
});

describe("concurrent changes", () => {
  it("a write that loses a race to another admin is a 409 and leaves no history or mail behind", async () => {
    const res = await api("/products", {
      method: "POST",
      token: alice.token,
      json: { name: "Race", brand: "B", price: 1 },
    });
    const { sku } = (await res.json()) as { sku: string };
    for (const [method, json] of [
      ["PATCH", { price: 2 }],
      ["PUT", { name: "Race 2", brand: "B", price: 2 }],
      ["DELETE", undefined],
    ] as const) {
      const batch = env.DB.batch.bind(env.DB);
      // The request's D1 session is the binding itself here, so the spy below sees its batches.
      vi.spyOn(env.DB, "withSession").mockImplementation(() => env.DB as unknown as D1DatabaseSession);
      // Bob's change commits between this request's read (one batch: the product and the notice recipients) and
      // its write batch.
      vi.spyOn(env.DB, "batch")
        .mockImplementationOnce((statements) => batch(statements))
        .mockImplementationOnce(async (statements) => {
          await env.DB.prepare("UPDATE products SET brand = brand || '!', updated_at = updated_at + 1 WHERE sku = ?")
            .bind(sku)
            .run();
          return batch(statements);
        });
      const before = await catalogCounts();
      const lost = await expectProblem(await api(`/products/${sku}`, { method, json, token: alice.token }), 409);
      expect(lost.detail).toMatch(/changed by someone else/);
      expect(await catalogCounts()).toEqual(before);
      vi.restoreAllMocks();
    }
    const product = (await (await api(`/products/${sku}`, { token: alice.token })).json()) as Record<string, unknown>;
    expect(product).toMatchObject({ name: "Race", brand: "B!!!", price: 1 });
    expect((await history(sku)).items.map((e) => e.action)).toEqual(["create"]);
  });
});

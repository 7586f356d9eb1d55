import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { namesAreUnique, RequestD1, serverTiming } from "../../src/db/client";

const refuse = () => {
  throw new Error("refused");
};

describe("the request's D1 (RequestD1)", () => {
  it("tells a select whose result columns repeat a name", () => {
    expect(namesAreUnique('select "id", "email" from "users" where "id" = ?')).toBe(true);
    expect(namesAreUnique('select "tasks"."id", "users"."id" from "tasks" inner join "users" on 1')).toBe(false);
    expect(namesAreUnique('select "a" as "x", (select count(*) from t) as "n", "b" from "t"')).toBe(true);
    expect(namesAreUnique('select "a" as "x", "x" from "t"')).toBe(false);
    expect(namesAreUnique("insert into t values (1)")).toBe(false);
  });

  it("meters round trips and rows, and answers raw() as arrays in column order", async () => {
    const db = new RequestD1(env.DB, "first-primary");
    const id = `meter-${crypto.randomUUID()}`;
    await db.prepare("INSERT INTO counters (name, value) VALUES (?, 7)").bind(id).run();
    expect(await db.prepare("SELECT value, name FROM counters WHERE name = ?").bind(id).raw()).toEqual([[7, id]]);
    expect(await db.prepare("SELECT value FROM counters WHERE name = ?").bind(id).first("value")).toBe(7);
    await db.batch([db.prepare("SELECT 1"), db.prepare("DELETE FROM counters WHERE name = ?").bind(id)]);
    expect(db.cost.roundTrips).toBe(4);
    expect(db.cost.rowsWritten).toBeGreaterThanOrEqual(2);
    expect(db.cost.rowsRead).toBeGreaterThanOrEqual(2);
    expect(serverTiming(db.cost)).toMatch(/^d1;desc="rt=4 read=\d+ written=\d+";dur=\d+$/);
    expect(db.getBookmark()).toMatch(/^[0-9a-f]{8}-/);
  });

  it("a deferred read joins the first read's batch and is checked before its rows are handed out", async () => {
    const db = new RequestD1(env.DB, "first-unconstrained");
    let seen: unknown;
    db.defer(db.prepare("SELECT 42 AS answer"), (row) => {
      seen = row;
    });
    expect(await db.prepare("SELECT 1 AS one").all()).toMatchObject({ results: [{ one: 1 }] });
    expect(seen).toEqual({ answer: 42 });
    expect(db.cost.roundTrips).toBe(1);

    const refused = new RequestD1(env.DB, "first-unconstrained");
    refused.defer(refused.prepare("SELECT 1"), refuse);
    await expect(refused.prepare("SELECT 'secret'").all()).rejects.toThrow("refused");
  });

  it("a write never rides with the deferred read: the check runs alone first, and a refusal stops the write", async () => {
    const id = `deferred-${crypto.randomUUID()}`;
    const db = new RequestD1(env.DB, "first-primary");
    db.defer(db.prepare("SELECT 1"), refuse);
    await expect(db.prepare("INSERT INTO counters (name, value) VALUES (?, 1)").bind(id).run()).rejects.toThrow(
      "refused",
    );
    expect(await env.DB.prepare("SELECT 1 FROM counters WHERE name = ?").bind(id).first()).toBeNull();
    expect(db.cost.roundTrips).toBe(1);

    const ok = new RequestD1(env.DB, "first-primary");
    ok.defer(ok.prepare("SELECT 1"), () => {});
    await ok.batch([ok.prepare("INSERT INTO counters (name, value) VALUES (?, 1)").bind(id)]);
    expect(ok.cost.roundTrips).toBe(2);
    expect(await env.DB.prepare("SELECT value FROM counters WHERE name = ?").bind(id).first("value")).toBe(1);
  });
});

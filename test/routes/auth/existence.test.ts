import { describe, expect, it } from "vitest";
import { d1Cost } from "../../d1-cost";
import { api, createUser, tableCounts } from "../../helpers";
import { type Inbox, inbox } from "../../mail/inbox";

/**
 * Nothing a stranger (or a member) can observe tells whether an address has an account: not the status, the body,
 * any header (Server-Timing's D1 figures and how far X-D1-Bookmark moves included), nor the rows the request writes.
 * The mail queue is held by the test (test/mail/inbox.ts), so no background consumer writes between requests.
 */

/** The commit counter of a D1 bookmark (its second field), which moves once per committed write. */
const commits = (res: Response) => Number.parseInt(res.headers.get("x-d1-bookmark")?.split("-")[1] ?? "", 16);

/** What a client can see of an answer, minus what differs on every request (its id, durations). */
async function observable(res: Response, before: Response) {
  const headers = Object.fromEntries(
    [...res.headers]
      .filter(([name]) => !["x-request-id", "x-d1-bookmark"].includes(name))
      .map(([name, value]) => [name, name === "server-timing" ? value.replace(/;dur=\d+/, "") : value]),
  );
  const body = (await res.text()).replace(/"request_id":"[^"]*"/, "");
  return { status: res.status, body, headers, bookmarkMoved: commits(res) - commits(before) };
}

function delta(after: Record<string, number>, before: Record<string, number>) {
  return Object.fromEntries(Object.keys(after).map((table) => [table, after[table]! - (before[table] ?? 0)]));
}

/** A POST of `json` with `email` in it, from `client`, as a stranger sees it, and the rows it added to each table. */
async function observed(box: Inbox, path: string, json: Record<string, string>, email: string, client: string) {
  const headers = { "cf-connecting-ip": client };
  // A first request from this client makes its counter row; the measured one then updates it, like every later one.
  const warm = await box.fetch(path, { method: "POST", json: { ...json, email: "warm-up@example.com" }, headers });
  const rows = await tableCounts();
  const res = await box.fetch(path, { method: "POST", json: { ...json, email }, headers });
  return { seen: await observable(res, warm), rows: delta(await tableCounts(), rows) };
}

const forgotObserved = (box: Inbox, email: string, client: string) =>
  observed(box, "/auth/password/forgot", {}, email, client);

describe("POST /auth/password/forgot tells nothing about who has an account", { timeout: 60_000 }, () => {
  it("a known and an unknown address get the same status, body, headers, D1 cost, bookmark move and rows", async () => {
    const box = inbox();
    const known = await createUser("member");
    const a = await forgotObserved(box, known.email, "198.51.100.21");
    const b = await forgotObserved(box, `nobody-${crypto.randomUUID().slice(0, 8)}@example.com`, "198.51.100.22");
    expect(a.seen.status).toBe(202);
    expect(a.seen).toEqual(b.seen);
    expect(a.rows).toEqual(b.rows);
    // And the reset mail still reaches the known address once the queue is delivered.
    await box.deliver();
    expect(box.to(known.email, /reset your password/i)).toHaveLength(1);
  });
});

describe("POST /auth/login tells nothing about who has an account", { timeout: 60_000 }, () => {
  const wrongPassword = (box: Inbox, email: string, client: string) =>
    observed(box, "/auth/login", { password: "not the password" }, email, client);

  it("a known address with a wrong password and an unknown one: the same status, body, headers, bookmark move and rows", async () => {
    // As production sends it (SERVER_TIMING_D1_DETAIL=false): D1's rows-read figure would count the account's own
    // row, a figure only local runs show (see the search below).
    const box = inbox({ SERVER_TIMING_D1_DETAIL: "false" });
    const known = await createUser("member");
    const a = await wrongPassword(box, known.email, "198.51.100.25");
    const b = await wrongPassword(box, `nobody-${crypto.randomUUID().slice(0, 8)}@example.com`, "198.51.100.26");
    expect(a.seen.status).toBe(401);
    expect(a.seen).toEqual(b.seen);
    expect(a.rows).toEqual(b.rows);
  });

  it("the same D1 round trips and rows written, where the figures are shown", async () => {
    const box = inbox();
    const known = await createUser("member");
    const cost = async (email: string, client: string) => {
      const headers = { "cf-connecting-ip": client };
      await box.fetch("/auth/login", {
        method: "POST",
        json: { email: "warm-up@example.com", password: "x" },
        headers,
      });
      const res = await box.fetch("/auth/login", { method: "POST", json: { email, password: "wrong" }, headers });
      expect(res.status).toBe(401);
      const { roundTrips, rowsWritten } = d1Cost(res);
      return { roundTrips, rowsWritten };
    };
    expect(await cost(known.email, "198.51.100.27")).toEqual(
      await cost(`nobody-${crypto.randomUUID().slice(0, 8)}@example.com`, "198.51.100.28"),
    );
  });
});

describe("a member's task search by email costs the same round trips whether or not the address is registered", () => {
  it("a registered address (no tasks) and an unknown one: the same D1 round trips", async () => {
    const member = await createUser("member");
    const registered = await createUser("member");
    const search = (email: string) =>
      api(`/tasks?search=${encodeURIComponent(email)}`, { token: member.token }).then((res) => {
        expect(res.status).toBe(200);
        return d1Cost(res);
      });
    const known = await search(registered.email);
    const unknown = await search(`nobody-${crypto.randomUUID().slice(0, 8)}@example.com`);
    // Rows read may still differ by the creator's own row, which the join reads (docs/hardening.md); production
    // does not send the D1 figures (SERVER_TIMING_D1_DETAIL).
    expect(known.roundTrips).toBe(unknown.roundTrips);
  });
});

describe("Server-Timing's D1 figures are a setting", () => {
  it("with SERVER_TIMING_D1_DETAIL=false (production) only the duration is sent", async () => {
    const quiet = inbox({ SERVER_TIMING_D1_DETAIL: "false", ENVIRONMENT: "production" });
    const res = await quiet.fetch("/auth/password/forgot", {
      method: "POST",
      json: { email: "someone@example.com" },
      headers: { "cf-connecting-ip": "198.51.100.23" },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("server-timing")).toMatch(/^d1;dur=\d+$/);
    // Under npm start, in the tests and in the bench (the top-level [vars]) the figures are there.
    const detailed = await inbox().fetch("/auth/password/forgot", {
      method: "POST",
      json: { email: "someone@example.com" },
      headers: { "cf-connecting-ip": "198.51.100.24" },
    });
    expect(detailed.headers.get("server-timing")).toMatch(/^d1;desc="rt=1 read=\d+ written=\d+";dur=\d+$/);
  });
});

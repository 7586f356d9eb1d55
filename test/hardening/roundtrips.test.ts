import { beforeAll, describe, expect, it } from "vitest";
import { d1Cost } from "../d1-cost";
import { CALLERS, type Caller, MATRIX, makeWorld, type SessionCaller, send, tokenOf, type World } from "./operations";
import { ROUND_TRIPS } from "./roundtrips";
import { type Document, openapiDocument, operationsOf } from "./support";

let doc: Document;
let w: World;

beforeAll(async () => {
  doc = await openapiDocument();
  w = await makeWorld();
});

/** Who the row is measured as: the first caller (signed-in ones first) the matrix lets through. */
const PREFERENCE: (Caller | SessionCaller)[] = ["member", "admin", "superuser", "other", "anonymous", "own"];

function callerFor(key: string): Caller | SessionCaller {
  const row = MATRIX[key]!;
  const statuses: Record<string, number> = { ...row.session };
  CALLERS.forEach((caller, i) => {
    statuses[caller] = row.expect[i]!;
  });
  const caller = PREFERENCE.find((c) => (statuses[c] ?? 0) >= 100 && (statuses[c] ?? 0) < 300);
  if (!caller) throw new Error(`${key}: no caller succeeds`);
  return caller;
}

describe("D1 round trips of every operation (the table in test/hardening/roundtrips.ts)", () => {
  it("has a row for every operation of /openapi.json, and no other", () => {
    const documented = operationsOf(doc).map((o) => o.key);
    expect(documented.filter((key) => !(key in ROUND_TRIPS))).toEqual([]);
    expect(Object.keys(ROUND_TRIPS).filter((key) => !documented.includes(key))).toEqual([]);
  });

  it("each operation makes exactly the round trips its row says, as the caller its row names", async () => {
    const actual: Record<string, { caller: string; trips: number | null }> = {};
    const expected: Record<string, { caller: string; trips: number | null }> = {};
    for (const { key } of operationsOf(doc)) {
      const row = ROUND_TRIPS[key];
      if (!row) continue;
      const caller = callerFor(key);
      const built = await MATRIX[key]!.build(w);
      const res = await send(built, tokenOf(w, built, caller));
      expect(res.status, key).toBeLessThan(300);
      // A WebSocket upgrade (101) carries no headers of ours to read.
      actual[key] = { caller, trips: res.status === 101 ? null : d1Cost(res).roundTrips };
      expected[key] = { caller: row.caller, trips: row.trips };
      res.webSocket?.accept();
      res.webSocket?.close();
      await res.body?.cancel();
    }
    expect(actual).toEqual(expected);
  }, 60_000);

  it("signed-in reads are one round trip, writes at most two (each exception has its reason in the row)", () => {
    const over = Object.entries(ROUND_TRIPS).filter(([key, row]) => {
      const limit = key.startsWith("GET ") ? 1 : 2;
      return row.trips !== null && row.trips > limit && !row.why;
    });
    expect(over).toEqual([]);
  });
});

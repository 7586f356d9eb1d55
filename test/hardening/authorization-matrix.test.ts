import { beforeAll, describe, expect, it } from "vitest";
import { CALLERS, MATRIX, makeWorld, send, tokenOf, type World } from "./operations";
import { type Document, openapiDocument, operationsOf } from "./support";

let doc: Document;
let w: World;

beforeAll(async () => {
  doc = await openapiDocument();
  w = await makeWorld();
});

describe("authorization matrix", () => {
  it("lists every operation of /openapi.json, and nothing else", () => {
    const documented = operationsOf(doc).map((o) => o.key);
    const missing = documented.filter((key) => !(key in MATRIX));
    const stale = Object.keys(MATRIX).filter((key) => !documented.includes(key));
    expect(missing, "operations without a row in the matrix (add one to test/hardening/operations.ts)").toEqual([]);
    expect(stale, "matrix rows for operations the document no longer has").toEqual([]);
  });

  it("documents every status the matrix expects", () => {
    const undocumented: string[] = [];
    for (const { key, op } of operationsOf(doc)) {
      const row = MATRIX[key];
      if (!row) continue;
      for (const status of [...row.expect, ...Object.values(row.session ?? {})]) {
        if (!op.responses[String(status)]) undocumented.push(`${key} → ${status}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it("gives every caller exactly the expected status on every operation", async () => {
    const actual: Record<string, Record<string, number>> = {};
    const expected: Record<string, Record<string, number>> = {};
    for (const { key } of operationsOf(doc)) {
      const row = MATRIX[key];
      if (!row) continue;
      actual[key] = {};
      expected[key] = {};
      const columns = [
        ...CALLERS.map((caller, i) => [caller, row.expect[i]] as const),
        ...Object.entries(row.session ?? {}),
      ] as [Parameters<typeof tokenOf>[2], number][];
      // The cells of one row are independent (each builds its own request), so they run side by side.
      await Promise.all(
        columns.map(async ([caller, status]) => {
          const built = await row.build(w);
          const res = await send(built, tokenOf(w, built, caller));
          const type = res.headers.get("content-type") ?? "";
          // A refusal is always problem+json; a refusal in any other shape is recorded as a mismatch (negative).
          actual[key][caller] =
            res.status >= 400 && !type.startsWith("application/problem+json") ? -res.status : res.status;
          await res.body?.cancel();
          expected[key][caller] = status;
        }),
      );
    }
    expect(actual).toEqual(expected);
  }, 60_000);
});

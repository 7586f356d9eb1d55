import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TASK_STATUSES } from "../../src/db/schema";
import { parseFieldSelection } from "../../src/lib/fields";
import { queryPatterns } from "../../src/lib/openapi";
import { parseOrdering } from "../../src/lib/ordering";
import { BUCKET_PATTERN, StatsQuery } from "../../src/routes/cursor/cursor.schemas";
import { OUTBOX_ORDERING } from "../../src/routes/outbox/outbox.schemas";
import { PRODUCT_FIELDS, PRODUCT_ORDERING } from "../../src/routes/products/products.schemas";
import { TASK_FIELDS, TASK_ORDERING, TaskListQuery } from "../../src/routes/tasks/tasks.schemas";
import { USER_ORDERING } from "../../src/routes/users/users.schemas";

/**
 * The patterns /openapi.json gives the restricted query parameters must accept exactly what the server accepts:
 * each is compared with the parser it describes, on generated values built from the allowed words, their near
 * misses, separators, whitespace and noise (fixed seed), and for `bucket` on every value of its shape.
 */

const SEED = 20261202;
const accepts = (fn: () => unknown) => {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
};

/** Strings made of allowed words, their near misses, separators and whitespace. */
function candidates(words: readonly string[]) {
  const near = words.flatMap((w) => [w.toUpperCase(), `${w}s`, w.slice(0, -1), `_${w}`]);
  const token = fc.constantFrom(...words, ...words, ...near, ",", ",", " ", "\t", "-", "+", "", "\u00a0", "x", "\n");
  return fc.array(token, { maxLength: 8 }).map((parts) => parts.join(""));
}

function sample(words: readonly string[]) {
  return [...new Set([...fc.sample(candidates(words), { numRuns: 4000, seed: SEED }), ...words])];
}

function mismatches(pattern: string, values: string[], server: (v: string) => boolean) {
  const re = new RegExp(pattern, "u");
  return values.filter((v) => re.test(v) !== server(v)).map((v) => JSON.stringify(v));
}

describe("query parameter patterns say exactly what the server accepts", () => {
  for (const [name, allowed] of [
    ["products", PRODUCT_ORDERING],
    ["tasks", TASK_ORDERING],
    ["users", USER_ORDERING],
    ["outbox", OUTBOX_ORDERING],
  ] as const) {
    it(`ordering (${name})`, () => {
      const fallback = { field: allowed[0], direction: "asc" } as const;
      const values = sample(allowed);
      expect(values.filter((v) => accepts(() => parseOrdering(v, allowed, fallback))).length).toBeGreaterThanOrEqual(
        allowed.length * 2,
      );
      expect(
        mismatches(queryPatterns.ordering(allowed), values, (v) => accepts(() => parseOrdering(v, allowed, fallback))),
      ).toEqual([]);
    });
  }

  for (const [name, allowed] of [
    ["products", PRODUCT_FIELDS],
    ["tasks", TASK_FIELDS],
  ] as const) {
    it(`fields and omit (${name})`, () => {
      const values = sample(allowed);
      const pattern = queryPatterns.fieldList(allowed);
      expect(mismatches(pattern, values, (v) => accepts(() => parseFieldSelection(allowed, v, undefined)))).toEqual([]);
      expect(mismatches(pattern, values, (v) => accepts(() => parseFieldSelection(allowed, undefined, v)))).toEqual([]);
    });
  }

  it("status items (tasks)", () => {
    const values = sample(TASK_STATUSES);
    const status = TaskListQuery.shape.status;
    expect(mismatches(queryPatterns.someOf(TASK_STATUSES), values, (v) => status.safeParse(v).success)).toEqual([]);
  });

  it("bucket (cursor stats): every value of up to five digits and a unit, and some others", () => {
    const values: string[] = ["", "s", "1", "1d", "1S", " 1s", "1s ", "-1s", "+1s", "1.5s", "١s", "100000s"];
    for (let digits = 1; digits <= 5; digits++) {
      for (let n = 0; n < 10 ** digits; n++) {
        for (const unit of "smh") values.push(`${String(n).padStart(digits, "0")}${unit}`);
      }
    }
    const bucket = StatsQuery.shape.bucket;
    expect(mismatches(BUCKET_PATTERN, values, (v) => bucket.safeParse(v).success)).toEqual([]);
  });
});

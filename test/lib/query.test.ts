import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors";
import { parseFieldSelection, pickFields } from "../../src/lib/fields";
import { parseOrdering } from "../../src/lib/ordering";
import { PaginationQuery, page } from "../../src/lib/pagination";
import { dayStart, fromIso, toIso, utcDay } from "../../src/lib/time";

const FIELDS = ["id", "title", "description", "status"] as const;

describe("field selection", () => {
  it("returns null (everything) when neither fields nor omit is given", () => {
    expect(parseFieldSelection(FIELDS, undefined, undefined)).toBeNull();
  });

  it("keeps only the named fields, trimming blanks", () => {
    const selected = parseFieldSelection(FIELDS, " id, title ,", undefined);
    expect(pickFields({ id: 1, title: "t", description: "d", status: "todo" }, selected)).toEqual({
      id: 1,
      title: "t",
    });
  });

  it("omit drops fields from everything, or from the fields list", () => {
    expect([...(parseFieldSelection(FIELDS, undefined, "description") ?? [])]).toEqual(["id", "title", "status"]);
    expect([...(parseFieldSelection(FIELDS, "id,title", "title") ?? [])]).toEqual(["id"]);
  });

  it("rejects unknown fields with a 400 naming each one", () => {
    try {
      parseFieldSelection(FIELDS, "id,password", "secret");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      const apiError = error as ApiError;
      expect(apiError.status).toBe(400);
      expect(apiError.options.errors).toEqual([
        { path: "fields", message: "unknown field 'password'" },
        { path: "omit", message: "unknown field 'secret'" },
      ]);
    }
  });
});

describe("ordering", () => {
  const fallback = { field: "created_at", direction: "desc" } as const;
  it("parses ascending and descending fields", () => {
    expect(parseOrdering("title", ["title", "created_at"], fallback)).toEqual({ field: "title", direction: "asc" });
    expect(parseOrdering("-created_at", ["title", "created_at"], fallback)).toEqual({
      field: "created_at",
      direction: "desc",
    });
  });
  it("falls back when absent and rejects undeclared fields", () => {
    expect(parseOrdering(undefined, ["title"], fallback)).toBe(fallback);
    expect(() => parseOrdering("-password_hash", ["title"], fallback)).toThrow(ApiError);
  });
});

describe("pagination", () => {
  it("defaults to 20 from 0 and caps the limit at 100", () => {
    expect(PaginationQuery.parse({})).toEqual({ limit: 20, offset: 0 });
    expect(PaginationQuery.parse({ limit: "100", offset: "40" })).toEqual({ limit: 100, offset: 40 });
    expect(PaginationQuery.safeParse({ limit: "101" }).success).toBe(false);
    expect(PaginationQuery.safeParse({ limit: "0" }).success).toBe(false);
    expect(PaginationQuery.safeParse({ offset: "-1" }).success).toBe(false);
    expect(PaginationQuery.safeParse({ limit: "ten" }).success).toBe(false);
  });
  it("answers { items, total, limit, offset }", () => {
    expect(page([1, 2], 7, { limit: 2, offset: 4 })).toEqual({ items: [1, 2], total: 7, limit: 2, offset: 4 });
  });
});

describe("time", () => {
  it("round-trips epoch milliseconds and ISO 8601 UTC", () => {
    expect(toIso(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(fromIso("2026-11-23T10:00:00.000Z")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(toIso(null)).toBeNull();
  });
});

describe("UTC days", () => {
  it("names the day of an instant and the instant a day starts", () => {
    expect(utcDay(Date.parse("2026-03-01T23:59:59.999Z"))).toBe("2026-03-01");
    expect(dayStart("2026-03-02")).toBe(Date.parse("2026-03-02T00:00:00.000Z"));
    expect(utcDay(dayStart("2024-02-29"))).toBe("2024-02-29");
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { centsToPrice, formatCents, isValidPrice, parsePriceParam, priceToCents } from "../../src/lib/money";

describe("isValidPrice", () => {
  it("accepts 0 to 1,000,000 with at most two decimals", () => {
    for (const value of [0, 0.01, 0.1, 0.29, 1, 19.99, 999_999.99, 1_000_000]) expect(isValidPrice(value)).toBe(true);
  });

  it("rejects negatives, over-precise, too large and non-finite numbers", () => {
    for (const value of [-1, -0.01, 1.005, 0.001, 1e-7, 1e7, 1_000_000.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(isValidPrice(value)).toBe(false);
    }
  });
});

describe("priceToCents / centsToPrice", () => {
  it("converts without binary drift", () => {
    expect(priceToCents(0.29)).toBe(29);
    expect(priceToCents(19.99)).toBe(1999);
    expect(priceToCents(1_000_000)).toBe(100_000_000);
    expect(Object.is(priceToCents(-0), 0)).toBe(true);
    expect(centsToPrice(1250)).toBe(12.5);
    expect(centsToPrice(1999)).toBe(19.99);
  });

  it("refuses an invalid price instead of rounding it", () => {
    expect(() => priceToCents(1.005)).toThrow(RangeError);
  });

  it("round-trips every cent amount in range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000_000 }), (cents) => {
        const price = centsToPrice(cents);
        expect(isValidPrice(price)).toBe(true);
        expect(priceToCents(price)).toBe(cents);
      }),
    );
  });
});

describe("formatCents", () => {
  it("always shows two places", () => {
    expect(formatCents(0)).toBe("0.00");
    expect(formatCents(5)).toBe("0.05");
    expect(formatCents(1250)).toBe("12.50");
    expect(formatCents(100_000_000)).toBe("1000000.00");
    expect(formatCents(-150)).toBe("-1.50");
  });
});

describe("parsePriceParam", () => {
  it("parses query prices to cents and rejects anything else", () => {
    expect(parsePriceParam("9.99")).toBe(999);
    expect(parsePriceParam("10")).toBe(1000);
    expect(parsePriceParam("1000000")).toBe(100_000_000);
    for (const text of ["", "-1", "1.005", "abc", "1e3", "1000000.01", " 5"]) expect(parsePriceParam(text)).toBeNull();
  });
});

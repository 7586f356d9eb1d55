import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteWriter, decodePoints, encodePoints, endCursor, startCursor } from "../../src/cursor/codec";

const T0 = 1_767_225_600_000;

function encode(points: { x: number; y: number; t: number }[], t0 = T0) {
  const w = new ByteWriter();
  encodePoints(w, startCursor(t0), points);
  return w.bytes();
}

describe("event codec", () => {
  it("gives back exactly the numbers sent: integers, hundredths, long decimals, negatives, extremes", () => {
    const t = T0;
    const points = [
      { x: 0, y: 0, t },
      { x: 412.5, y: 230.25, t: t + 16 },
      { x: 412.37, y: -0.01, t: t + 16 },
      { x: 1 / 3, y: Math.PI, t: t + 33 },
      { x: -100_000, y: 100_000, t: t + 999 },
      { x: 5e-324, y: -0, t: t + 999 },
    ];
    const decoded = decodePoints(T0, encode(points));
    expect(decoded).toHaveLength(points.length);
    decoded.forEach((p, i) => {
      expect(Object.is(p.x, points[i]!.x) || p.x === points[i]!.x).toBe(true);
      expect(p.y === points[i]!.y).toBe(true);
      expect(p.t).toBe(points[i]!.t);
    });
  });

  it("appending to a block continues from where its row ended (after an eviction too)", () => {
    const t = T0;
    const a = [
      { x: 10, y: 10, t: t + 5 },
      { x: 12.5, y: 9, t: t + 21 },
    ];
    const b = [{ x: 14, y: 8.75, t: t + 37 }];
    const w = new ByteWriter();
    encodePoints(w, startCursor(T0), a);
    const first = w.bytes();
    const w2 = new ByteWriter();
    encodePoints(w2, endCursor(T0, first), b);
    const joined = new Uint8Array([...first, ...w2.bytes()]);
    expect(decodePoints(T0, joined)).toEqual([...a, ...b]);
  });

  it("packs a 60 Hz pointer path into a few bytes an event", () => {
    const t = T0;
    const points = Array.from({ length: 60 }, (_, i) => ({
      x: Math.round((400 + 200 * Math.sin(i / 10)) * 2) / 2,
      y: Math.round(300 + 150 * Math.cos(i / 7)),
      t: t + Math.round((i * 1000) / 60),
    }));
    const bytes = encode(points);
    expect(bytes.length / points.length).toBeLessThanOrEqual(8);
    expect(decodePoints(T0, bytes)).toEqual(points);
  });

  it("round-trips any time-ordered points, however far apart (property)", () => {
    const coordinate = fc.oneof(
      fc.integer({ min: -10_000_000, max: 10_000_000 }).map((n) => n / 100),
      fc.double({ min: -100_000, max: 100_000, noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ x: coordinate, y: coordinate, dt: fc.integer({ min: 0, max: 30 * 86_400_000 }) })),
        (raw) => {
          const offsets = raw.map((r) => r.dt).sort((a, b) => a - b);
          const points = raw.map((r, i) => ({ x: r.x, y: r.y, t: T0 + offsets[i]! }));
          const decoded = decodePoints(T0, encode(points));
          expect(decoded.map((p) => [p.x, p.y, p.t])).toEqual(points.map((p) => [p.x, p.y, p.t]));
        },
      ),
    );
  });
});

import { describe, expect, it } from "vitest";
import { CursorRollupsMessageSchema, eventsBatchSchema, NackFrameSchema } from "../../src/cursor/protocol";

const T0 = 1_767_225_600_000;

describe("telemetry message and socket frames", () => {
  it("a rollups message holds at most 100 whole buckets and an optional end summary", () => {
    const rollup = {
      bucket_start: T0 / 1000,
      distance: 10,
      peak_speed: 5,
      event_count: 3,
      start_x: 0,
      start_y: 0,
      end_x: 6,
      end_y: 8,
      last_seq: 2,
      total_distance: 10,
      last_t: T0 + 2000,
    };
    const message = { type: "cursor.rollups", id: "s:2", session_id: "s", rollups: [rollup] };
    expect(CursorRollupsMessageSchema.parse(message)).toEqual(message);
    expect(CursorRollupsMessageSchema.safeParse({ ...message, rollups: Array(101).fill(rollup) }).success).toBe(false);
    expect(
      CursorRollupsMessageSchema.safeParse({
        ...message,
        summary: { event_count: 3, total_distance: 10, last_event_at: T0 + 2000, ended_at: T0 + 5000 },
      }).success,
    ).toBe(true);
    expect(
      NackFrameSchema.safeParse({ type: "nack", first_seq: 4, status: 409, detail: "x", next_seq: 6 }).success,
    ).toBe(true);
  });
});

describe("eventsBatchSchema", () => {
  it("rejects non-finite-looking and out-of-order input with the index in the path", () => {
    const now = () => T0;
    const schema = eventsBatchSchema(now);
    expect(schema.safeParse({ events: [{ x: 1, y: 1, t: T0 }] }).success).toBe(true);
    const future = schema.safeParse({
      events: [
        { x: 1, y: 1, t: T0 },
        { x: 1, y: 1, t: T0 + 60_001 },
      ],
    });
    expect(future.error?.issues[0]?.path).toEqual(["events", 1, "t"]);
    expect(schema.safeParse({ events: [{ x: 1, y: 1, t: T0 + 60_000 }] }).success).toBe(true);
    const order = schema.safeParse({
      events: [
        { x: 1, y: 1, t: T0 },
        { x: 1, y: 1, t: T0 - 1 },
      ],
    });
    expect(order.error?.issues[0]?.path).toEqual(["events", 1, "t"]);
    expect(schema.safeParse({ events: [{ x: Number.POSITIVE_INFINITY, y: 1, t: T0 }] }).success).toBe(false);
    expect(schema.safeParse({ events: [{ x: Number.NaN, y: 1, t: T0 }] }).success).toBe(false);
  });
});

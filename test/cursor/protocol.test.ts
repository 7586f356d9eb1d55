import { describe, expect, it } from "vitest";
import {
  ClientMessageSchema,
  CursorRollupsMessageSchema,
  EventsBatchSchema,
  MAX_ROLLUPS_PER_MESSAGE,
  NackFrameSchema,
} from "../../src/cursor/protocol";

const T0 = 1_767_225_600_000;

describe("telemetry message and socket frames", () => {
  it("a rollups message holds at most MAX_ROLLUPS_PER_MESSAGE whole buckets and an optional end summary", () => {
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
    expect(
      CursorRollupsMessageSchema.safeParse({ ...message, rollups: Array(MAX_ROLLUPS_PER_MESSAGE + 1).fill(rollup) })
        .success,
    ).toBe(false);
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

describe("EventsBatchSchema", () => {
  it("rejects non-finite and out-of-order input with the index in the path; the session checks the clock", () => {
    const schema = EventsBatchSchema;
    expect(schema.safeParse({ events: [{ x: 1, y: 1, t: T0 }] }).success).toBe(true);
    // Far ahead of any clock is the session's to refuse (it knows its life); the schema checks the shape and order.
    expect(schema.safeParse({ events: [{ x: 1, y: 1, t: T0 + 10 * 86_400_000 }] }).success).toBe(true);
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

describe("ClientMessageSchema", () => {
  it("is a closed union on `type`: events (with the batch's rules) or hello, nothing else", () => {
    const events = [{ x: 1, y: 1, t: T0 }];
    expect(ClientMessageSchema.parse({ type: "events", first_seq: 0, events })).toEqual({
      type: "events",
      first_seq: 0,
      events,
    });
    expect(ClientMessageSchema.parse({ type: "hello" })).toEqual({ type: "hello" });
    const refused = [
      { type: "events", events, extra: 1 },
      { type: "events", events: [{ ...events[0], z: 1 }] },
      JSON.parse(`{"type":"events","events":${JSON.stringify(events)},"__proto__":{}}`),
      { type: "events", events: [...events, { x: 1, y: 1, t: T0 - 1 }] },
      { type: "hello", first_seq: 1 },
      { type: "nack" },
      {},
    ];
    for (const body of refused) expect(ClientMessageSchema.safeParse(body).success, JSON.stringify(body)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { advance, INITIAL_STATE } from "../../src/cursor/kinematics";
import {
  CursorEventsMessageSchema,
  eventsBatchSchema,
  MAX_MESSAGE_BYTES,
  packMessages,
} from "../../src/cursor/protocol";
import { numbered } from "./helpers";

const T0 = 1_767_225_600_000;

describe("packMessages", () => {
  it("keeps one small batch in one message with the summary", () => {
    const points = [
      { x: 0, y: 0, t: T0 },
      { x: 3, y: 4, t: T0 + 10 },
    ];
    const r = advance(INITIAL_STATE, points);
    const messages = packMessages("s1", numbered(points), r.seconds, {
      event_count: 2,
      total_distance: 5,
      last_event_at: T0 + 10,
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      type: "cursor.events",
      id: "s1:0:0",
      session_id: "s1",
      summary: { event_count: 2 },
    });
    expect(CursorEventsMessageSchema.parse(messages[0])).toEqual(messages[0]);
  });

  it("splits 1,000 long-float events spread over an hour so every message stays under the limit", () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({
      x: 12345.678901234 + i / 3,
      y: -9876.543210987 - i / 7,
      t: T0 + i * 3600,
    }));
    const r = advance(INITIAL_STATE, points);
    expect(r.seconds).toHaveLength(1000);
    const messages = packMessages(crypto.randomUUID(), numbered(points), r.seconds, {
      event_count: 1000,
      total_distance: r.distance,
      last_event_at: points.at(-1)!.t,
    });
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages)
      expect(new TextEncoder().encode(JSON.stringify(m)).length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(messages.flatMap((m) => m.events.map((e) => e.seq))).toEqual(points.map((_, i) => i));
    expect(messages.flatMap((m) => m.seconds)).toHaveLength(1000);
    expect(messages.filter((m) => m.summary)).toHaveLength(1);
    expect(messages.at(-1)!.summary).toBeDefined();
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
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

import { z } from "@hono/zod-openapi";
import type { SecondAggregate, SequencedPoint } from "./kinematics";

/**
 * The shapes that cross a boundary: events posted by the page, WebSocket frames pushed to viewers, and the messages
 * the Durable Object hands to the `analytics` queue. One zod schema each, so tests can check what actually travels.
 */

export const MAX_EVENTS_PER_BATCH = 1000;
/** Coordinates are CSS pixels; generous enough for any screen (and a pointer dragged off it), small enough to be sane. */
export const MAX_COORDINATE = 100_000;
/** An event may be at most this far ahead of the server's clock (clock skew, queued batches). */
export const MAX_FUTURE_MS = 60_000;
/** Epoch milliseconds before 2001 are certainly not a timestamp from this page. */
export const MIN_EPOCH_MS = 978_307_200_000;

const Coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);

export const CursorEventSchema = z
  .object({
    x: Coordinate.openapi({ description: "CSS pixels from the left of the viewport", example: 412.5 }),
    y: Coordinate.openapi({ description: "CSS pixels from the top of the viewport", example: 230 }),
    t: z.number().int().min(MIN_EPOCH_MS).openapi({
      description: "Epoch milliseconds (use the session's server_time as the clock base)",
      example: 1767225600123,
    }),
  })
  .openapi("CursorEvent");
export type CursorEvent = z.infer<typeof CursorEventSchema>;

/**
 * The whole batch is checked before anything is stored: time order inside the batch and the "not in the future"
 * bound need the whole list and the server clock, so they are refinements with the index in the path (`events.3.t`).
 * The bound against the previous batch's last `t` is checked by the Durable Object, which knows it.
 */
export function eventsBatchSchema(now: () => number = Date.now) {
  return z
    .object({
      events: z.array(CursorEventSchema).min(1).max(MAX_EVENTS_PER_BATCH),
      first_seq: z
        .number()
        .int()
        .min(0)
        .max(Number.MAX_SAFE_INTEGER)
        .optional()
        .openapi({
          description:
            "Optional: the seq the first event gets (0 for the first batch, then the previous answer's `last_seq` + 1). " +
            "With it, several batches may be in flight at once: the session applies them in seq order, holding one " +
            "that arrives early for up to 2 s until the batches before it arrive (else 409). A `first_seq` already " +
            "used is a retry of an accepted batch: 409 with `next_seq`, and nothing is stored twice.",
          example: 0,
        }),
    })
    .superRefine((body, ctx) => {
      const limit = now() + MAX_FUTURE_MS;
      for (let i = 0; i < body.events.length; i++) {
        const event = body.events[i]!;
        if (event.t > limit) {
          ctx.addIssue({
            code: "custom",
            path: ["events", i, "t"],
            message: `t is more than ${MAX_FUTURE_MS / 1000} s ahead of the server clock`,
          });
          return;
        }
        if (i > 0 && event.t < body.events[i - 1]!.t) {
          ctx.addIssue({ code: "custom", path: ["events", i, "t"], message: "events must be in time order" });
          return;
        }
      }
    })
    .openapi("CursorEventBatch");
}

// ---- WebSocket frames (server → viewer) -------------------------------------------------------------------------

const PointSchema = z.object({ x: z.number(), y: z.number() });

export const HelloFrameSchema = z
  .object({
    type: z.literal("hello"),
    session_id: z.string(),
    server_time: z.number().int().openapi({ description: "Epoch milliseconds" }),
    total_distance: z.number(),
    event_count: z.number().int(),
    last_t: z.number().int().nullable(),
    last_point: PointSchema.nullable(),
    ended: z.boolean(),
  })
  .openapi("CursorHelloFrame", { description: "First frame on every connection: the session's totals so far." });

export const DataFrameSchema = z
  .object({
    type: z.literal("frame"),
    t: z.number().int().openapi({ description: "Epoch milliseconds of the batch's last event" }),
    speed: z.number().openapi({ description: "px/s over the batch's window" }),
    distance: z.number().openapi({ description: "px covered by this batch" }),
    total_distance: z.number().openapi({ description: "px since the session started" }),
    events: z.number().int().openapi({ description: "events in this batch" }),
    event_count: z.number().int().openapi({ description: "events since the session started" }),
    window_ms: z.number().openapi({ description: "the window the speed is measured over" }),
  })
  .openapi("CursorDataFrame", { description: "Pushed to every viewer after each accepted batch." });

export const EndedFrameSchema = z
  .object({ type: z.literal("ended"), t: z.number().int() })
  .openapi("CursorEndedFrame", { description: "The session was ended; the server closes the socket next." });

export const ServerFrameSchema = z
  .discriminatedUnion("type", [HelloFrameSchema, DataFrameSchema, EndedFrameSchema])
  .openapi("CursorFrame");

export type HelloFrame = z.infer<typeof HelloFrameSchema>;
export type DataFrame = z.infer<typeof DataFrameSchema>;
export type EndedFrame = z.infer<typeof EndedFrameSchema>;
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

// ---- analytics queue message ---------------------------------------------------------------------------------------

export const CURSOR_EVENTS_TYPE = "cursor.events";

const SecondSchema = z.object({
  second: z.number().int(),
  distance: z.number(),
  peak_speed: z.number(),
  event_count: z.number().int(),
  start_x: z.number(),
  start_y: z.number(),
  end_x: z.number(),
  end_y: z.number(),
  last_seq: z.number().int(),
});

export const CursorEventsMessageSchema = z.object({
  type: z.literal(CURSOR_EVENTS_TYPE),
  /** Deterministic (`<session>:<first seq>:<part>`), so a redelivered message is recognisable in logs. */
  id: z.string(),
  session_id: z.string(),
  events: z.array(z.object({ seq: z.number().int(), x: z.number(), y: z.number(), t: z.number().int() })),
  seconds: z.array(SecondSchema),
  /** The session's totals after the batch; present on the batch's last message only. */
  summary: z
    .object({ event_count: z.number().int(), total_distance: z.number(), last_event_at: z.number().int() })
    .optional(),
});
export type CursorEventsMessage = z.infer<typeof CursorEventsMessageSchema>;

/**
 * Queue messages are limited to 128 KB; stay well under it. Sizes are measured on the serialized JSON, so a batch
 * of long floats or one spread over many seconds still splits correctly.
 */
export const MAX_MESSAGE_BYTES = 48_000;

/** Splits one batch into messages that each stay under `maxBytes` of JSON. Events go first, then seconds. */
export function packMessages(
  sessionId: string,
  events: readonly SequencedPoint[],
  seconds: readonly SecondAggregate[],
  summary: CursorEventsMessage["summary"],
  maxBytes = MAX_MESSAGE_BYTES,
): CursorEventsMessage[] {
  const firstSeq = events[0]?.seq ?? 0;
  const overhead = 300 + sessionId.length * 2;
  const messages: CursorEventsMessage[] = [];
  let current: CursorEventsMessage | null = null;
  let size = 0;
  const start = () => {
    current = {
      type: CURSOR_EVENTS_TYPE,
      id: `${sessionId}:${firstSeq}:${messages.length}`,
      session_id: sessionId,
      events: [],
      seconds: [],
    };
    messages.push(current);
    size = overhead;
  };
  const add = (kind: "events" | "seconds", item: object) => {
    const bytes = JSON.stringify(item).length + 1;
    if (!current || size + bytes > maxBytes) start();
    (current![kind] as object[]).push(item);
    size += bytes;
  };
  for (const event of events) add("events", event);
  for (const second of seconds) add("seconds", second);
  if (!current) start();
  if (summary) messages.at(-1)!.summary = summary;
  return messages;
}

import { z } from "@hono/zod-openapi";

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

// ---- page → server over the WebSocket, and the answers -------------------------------------------------------------

/**
 * The page sends its batches over its socket: `{ type: "events", first_seq, events }` with the same validation,
 * limits and idempotency as POST …/events. The sender alone gets `ack` (accepted) or `nack` (refused, with the
 * HTTP status the REST route would have answered, and `next_seq` when the session expects another seq).
 */
export const MAX_BATCH_MESSAGE_BYTES = 128 * 1024;

export const AckFrameSchema = z
  .object({
    type: z.literal("ack"),
    first_seq: z.number().int(),
    last_seq: z.number().int(),
    event_count: z.number().int(),
    total_distance: z.number(),
  })
  .openapi("CursorAckFrame", { description: "To the sender of an accepted batch." });

export const NackFrameSchema = z
  .object({
    type: z.literal("nack"),
    first_seq: z.number().int().nullable(),
    status: z.number().int(),
    detail: z.string(),
    next_seq: z.number().int().optional(),
    retry_after: z.number().int().optional(),
  })
  .openapi("CursorNackFrame", { description: "To the sender of a refused batch: nothing of it was stored." });

export type AckFrame = z.infer<typeof AckFrameSchema>;
export type NackFrame = z.infer<typeof NackFrameSchema>;

// ---- telemetry queue message ---------------------------------------------------------------------------------------

export const CURSOR_ROLLUPS_TYPE = "cursor.rollups";

export const RollupSchema = z.object({
  bucket_start: z.number().int().openapi({ description: "Epoch seconds, a multiple of 10" }),
  distance: z.number(),
  peak_speed: z.number(),
  event_count: z.number().int(),
  start_x: z.number(),
  start_y: z.number(),
  end_x: z.number(),
  end_y: z.number(),
  /** The newest event counted: orders two versions of one bucket. The session has last_seq + 1 events by then. */
  last_seq: z.number().int(),
  /** The session's running distance and last event time at the bucket's end. */
  total_distance: z.number(),
  last_t: z.number().int(),
});
export type RollupMessageItem = z.infer<typeof RollupSchema>;

export const CursorRollupsMessageSchema = z.object({
  type: z.literal(CURSOR_ROLLUPS_TYPE),
  /** Deterministic (`<session>:<last seq>:<end?>`), so a redelivered message is recognisable in logs. */
  id: z.string(),
  session_id: z.string(),
  rollups: z.array(RollupSchema).max(100),
  /** At session end only: the final totals and when it ended. */
  summary: z
    .object({
      event_count: z.number().int(),
      total_distance: z.number(),
      last_event_at: z.number().int().nullable(),
      ended_at: z.number().int(),
    })
    .optional(),
});
export type CursorRollupsMessage = z.infer<typeof CursorRollupsMessageSchema>;

/** What the session object answers to a batch of events (over REST and the socket alike). */
export type IngestAccepted = {
  ok: true;
  accepted: number;
  first_seq: number;
  last_seq: number;
  distance: number;
  speed: number;
  total_distance: number;
  event_count: number;
  last_t: number;
};
export type IngestRefusal =
  | { ok: false; code: "not_found" | "ended" | "too_many_waiting" }
  /** The session's token bucket (events per second of wall time) is short: retry after `retry_after` seconds. */
  | { ok: false; code: "rate_limited"; retry_after: number }
  /** Event `index` would put more than the cap into its second of event time. */
  | { ok: false; code: "second_full"; index: number; cap: number }
  /** The session holds (or would hold) more than CURSOR_MAX_EVENTS_PER_SESSION events. */
  | { ok: false; code: "session_full"; cap: number }
  | { ok: false; code: "out_of_order"; index: number; last_t: number }
  /** `first_seq` names events the session already has (a retry of an accepted batch), or another waiting batch's. */
  | { ok: false; code: "duplicate"; first_seq: number; next_seq: number }
  /** `first_seq` was ahead of the session and the batches before it did not arrive within GAP_WAIT_MS. */
  | { ok: false; code: "gap"; first_seq: number; next_seq: number };
export type IngestResult = IngestAccepted | IngestRefusal;

import { z } from "@hono/zod-openapi";
import { strictSchema } from "../lib/create-router";

/**
 * The shapes that cross a boundary: events posted by the page (over REST or its socket), the messages a socket may
 * send, the WebSocket frames pushed to viewers, and the rollups the Durable Object hands to the `telemetry` queue.
 * One zod schema each, so tests can check what actually travels.
 */

export const MAX_EVENTS_PER_BATCH = 1000;
/** Coordinates are CSS pixels; generous enough for any screen (and a pointer dragged off it), small enough to be sane. */
export const MAX_COORDINATE = 100_000;
/**
 * Event times must fall within the session's life: not before its creation minus this skew, not after the server's
 * clock plus it (clocks of the browser, the Worker and the object differ a little; the page bases its times on the
 * session's `server_time`, so it never comes near).
 */
export const CLOCK_SKEW_MS = 60_000;
/** Epoch milliseconds before 2001 are certainly not a timestamp from this page (the session's life is checked too). */
export const MIN_EPOCH_MS = 978_307_200_000;

const Coordinate = z.number().min(-MAX_COORDINATE).max(MAX_COORDINATE);

export const CursorEventSchema = z
  .object({
    x: Coordinate.openapi({ description: "CSS pixels from the left of the viewport", example: 412.5 }),
    y: Coordinate.openapi({ description: "CSS pixels from the top of the viewport", example: 230 }),
    t: z
      .number()
      .int()
      .min(MIN_EPOCH_MS)
      .openapi({
        description:
          "Epoch milliseconds, within the session's life: from its creation minus 60 s to the server's clock plus 60 s " +
          "(use the session's server_time as the clock base)",
        example: 1767225600123,
      }),
  })
  .openapi("CursorEvent");
export type CursorEvent = z.infer<typeof CursorEventSchema>;

const batchShape = {
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
};

/** Time order inside a batch needs the whole list, so it is a refinement with the index in the path (`events.3.t`). */
function inTimeOrder(body: { events: CursorEvent[] }, ctx: z.RefinementCtx): void {
  for (let i = 1; i < body.events.length; i++) {
    if (body.events[i]!.t < body.events[i - 1]!.t) {
      ctx.addIssue({ code: "custom", path: ["events", i, "t"], message: "events must be in time order" });
      return;
    }
  }
}

/**
 * A batch as POST …/events takes it. What needs the session (its life, the previous batch's last `t`, its limits) is
 * checked by its Durable Object, for REST and socket alike.
 */
export const EventsBatchSchema = z.object(batchShape).superRefine(inTimeOrder).openapi("CursorEventBatch");

// ---- page → server over the WebSocket ------------------------------------------------------------------------------

/**
 * What a socket may send, closed exactly like a REST body (`strictSchema`: an unknown field, `__proto__` included, is
 * a 422): the page's batches, `{ type: "events", first_seq, events }` with the validation of POST …/events, and
 * `{ type: "hello" }`, asking for the totals again (e.g. after a tab was hidden). `ping` is not a message: the runtime
 * answers it without waking the object.
 */
export const ClientMessageSchema = strictSchema(
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("events"), ...batchShape }).superRefine(inTimeOrder),
    z.object({ type: z.literal("hello") }),
  ]),
);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

/** The largest message the session's own socket may send (a batch); a viewer's limit is far smaller. */
export const MAX_BATCH_MESSAGE_BYTES = 128 * 1024;

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
export type ServerFrame = z.infer<typeof ServerFrameSchema>;

/** To the sender of an accepted batch. */
export const AckFrameSchema = z
  .object({
    type: z.literal("ack"),
    first_seq: z.number().int(),
    last_seq: z.number().int(),
    event_count: z.number().int(),
    total_distance: z.number(),
  })
  .openapi("CursorAckFrame", { description: "To the sender of an accepted batch." });

/** To the sender of a refused message: the status and field errors POST …/events would have answered. */
export const NackFrameSchema = z
  .object({
    type: z.literal("nack"),
    first_seq: z.number().int().nullable(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    next_seq: z.number().int().optional(),
    retry_after: z.number().int().optional(),
  })
  .openapi("CursorNackFrame", { description: "To the sender of a refused message: nothing of it was stored." });

export type AckFrame = z.infer<typeof AckFrameSchema>;
export type NackFrame = z.infer<typeof NackFrameSchema>;

// ---- buckets: GET /stats and the telemetry queue -------------------------------------------------------------------

/**
 * One bucket of a session's movement (any size, aligned to the epoch; `bucket_start` in epoch seconds): what GET
 * /stats answers per bucket and, at 10 s with its version, what a rollup carries to D1.
 */
export const BucketSchema = z.object({
  bucket_start: z.number().int().openapi({ description: "Epoch seconds, a multiple of the bucket size" }),
  distance: z.number(),
  peak_speed: z.number(),
  event_count: z.number().int(),
  start_x: z.number(),
  start_y: z.number(),
  end_x: z.number(),
  end_y: z.number(),
});
export type Bucket = z.infer<typeof BucketSchema>;

export const RollupSchema = BucketSchema.extend({
  /** The newest event counted: orders two versions of one bucket. The session has last_seq + 1 events by then. */
  last_seq: z.number().int(),
  /** The session's running distance and last event time at the bucket's end. */
  total_distance: z.number(),
  last_t: z.number().int(),
});
export type Rollup = z.infer<typeof RollupSchema>;

export const CURSOR_ROLLUPS_TYPE = "cursor.rollups";
export const MAX_ROLLUPS_PER_MESSAGE = 100;

export const CursorRollupsMessageSchema = z.object({
  type: z.literal(CURSOR_ROLLUPS_TYPE),
  /** Deterministic (`<session>:<last seq>:<end?>`), so a redelivered message is recognisable in logs. */
  id: z.string(),
  session_id: z.string(),
  rollups: z.array(RollupSchema).max(MAX_ROLLUPS_PER_MESSAGE),
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

// ---- what the session object answers to a batch (over REST and the socket alike) -----------------------------------

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
  /** The session holds (or would hold) more than CURSOR_MAX_EVENTS_PER_SESSION events, or their bytes. */
  | { ok: false; code: "session_full"; cap: number }
  | { ok: false; code: "out_of_order"; index: number; last_t: number }
  /** Event `index` falls outside the session's life, [from, to] in epoch ms. */
  | { ok: false; code: "outside_life"; index: number; from: number; to: number }
  /** `first_seq` names events the session already has (a retry of an accepted batch), or another waiting batch's. */
  | { ok: false; code: "duplicate"; first_seq: number; next_seq: number }
  /** `first_seq` was ahead of the session and the batches before it did not arrive within GAP_WAIT_MS. */
  | { ok: false; code: "gap"; first_seq: number; next_seq: number };
export type IngestResult = IngestAccepted | IngestRefusal;

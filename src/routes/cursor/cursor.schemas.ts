import { z } from "@hono/zod-openapi";
import { pageSchema, queryInt } from "../../lib/pagination";

export const SAMPLE_INTERVAL_MS = 16;
export const BATCH_INTERVAL_MS = 100;
export const BATCH_MAX_EVENTS = 50;

export const CreateSessionSchema = z
  .object({
    viewport: z
      .object({
        width: z.number().int().min(1).max(100_000).openapi({ example: 1440 }),
        height: z.number().int().min(1).max(100_000).openapi({ example: 900 }),
      })
      .strict(),
    label: z.string().trim().min(1).max(100).optional().openapi({ example: "landing page, desktop" }),
  })
  .strict()
  .openapi("CursorSessionCreate");

export const CreatedSessionSchema = z
  .object({
    id: z.uuid(),
    token: z.string().openapi({ description: "Session token (JWT, 24 h): Bearer for this session's routes" }),
    server_time: z.number().int().openapi({ description: "Epoch milliseconds; the clock base for event `t`" }),
    ws_url: z.string().openapi({
      description:
        "The live WebSocket, token included: ws(s):// on the configured PUBLIC_ORIGIN, or relative to this API's " +
        "origin when none is configured (resolve it against the page's location). Never built from the Host header.",
      example: "/api/v1/cursor/sessions/…/live?token=…",
    }),
    sample_interval_ms: z.number().int().openapi({ example: SAMPLE_INTERVAL_MS }),
    batch_interval_ms: z.number().int().openapi({ example: BATCH_INTERVAL_MS }),
    batch_max_events: z.number().int().openapi({ example: BATCH_MAX_EVENTS }),
  })
  .openapi("CursorSessionCreated");

export const AcceptedSchema = z
  .object({
    accepted: z.number().int(),
    first_seq: z.number().int(),
    last_seq: z.number().int(),
    distance: z.number().openapi({ description: "px covered by this batch (from the previous batch's last point)" }),
    speed: z.number().openapi({ description: "px/s over this batch's window" }),
    total_distance: z.number(),
    event_count: z.number().int(),
    last_t: z.number().int(),
  })
  .openapi("CursorEventsAccepted");

export const SessionSchema = z
  .object({
    id: z.uuid(),
    label: z.string().nullable(),
    viewport: z.object({ width: z.number().int(), height: z.number().int() }),
    created_at: z.iso.datetime(),
    ended_at: z.iso.datetime().nullable(),
    event_count: z
      .number()
      .int()
      .openapi({ description: "Events stored in D1 so far (trails the live count by the queue's delay)" }),
    total_distance: z.number(),
    last_event_at: z.iso.datetime().nullable(),
  })
  .openapi("CursorSession");
export const SessionPageSchema = pageSchema(SessionSchema, "CursorSessionPage");

const BUCKET_UNITS = { s: 1, m: 60, h: 3600 } as const;
export const MAX_BUCKET_SECONDS = 86_400;
/** Exactly the bucket sizes the transform below accepts (1 s to 24 h, at most five digits); a test checks both agree. */
export const BUCKET_PATTERN =
  "^(?=\\d{1,5}[smh]$)0*(?:(?:[1-9]\\d{0,3}|[1-7]\\d{4}|8[0-5]\\d{3}|86[0-3]\\d{2}|86400)s|(?:[1-9]\\d{0,2}|1[0-3]\\d{2}|14[0-3]\\d|1440)m|(?:[1-9]|1\\d|2[0-4])h)$";

export const StatsQuery = z.object({
  bucket: z
    .string()
    .default("10s")
    .transform((value, ctx) => {
      const match = /^(\d{1,5})([smh])$/.exec(value);
      const seconds = match ? Number(match[1]) * BUCKET_UNITS[match[2] as keyof typeof BUCKET_UNITS] : 0;
      if (seconds < 1 || seconds > MAX_BUCKET_SECONDS) {
        ctx.addIssue({ code: "custom", message: "Use a bucket like 1s, 10s, 5m or 1h, at most 24h." });
        return z.NEVER;
      }
      return seconds;
    })
    .openapi({ param: { name: "bucket", in: "query" }, type: "string", pattern: BUCKET_PATTERN, example: "10s" }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({
      param: { name: "from", in: "query" },
      description: "Inclusive; default: the session's first stored second (at most 1,000 buckets back)",
    }),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({
      param: { name: "to", in: "query" },
      description: "Exclusive; default: now, or after the last stored second if that is later",
    }),
});

const PointSchema = z.object({ x: z.number(), y: z.number() });

export const BucketSchema = z
  .object({
    start: z.iso.datetime(),
    end: z.iso.datetime(),
    distance: z.number().openapi({ description: "px" }),
    avg_speed: z.number().openapi({ description: "distance / bucket seconds (px/s)" }),
    peak_speed: z.number().openapi({ description: "fastest segment in the bucket (px/s)" }),
    event_count: z.number().int(),
    start_point: PointSchema,
    end_point: PointSchema,
  })
  .openapi("CursorStatsBucket");

export const StatsSchema = z
  .object({
    session_id: z.uuid(),
    bucket_seconds: z.number().int(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    buckets: z.array(BucketSchema).openapi({ description: "Buckets with at least one event, oldest first" }),
    totals: z.object({ distance: z.number(), event_count: z.number().int() }),
  })
  .openapi("CursorStats");

export const EventsQuery = z.object({
  after: queryInt(z.number().int().min(-1))
    .default(-1)
    .openapi({ param: { name: "after", in: "query" }, description: "Return events with seq greater than this" }),
  limit: queryInt(z.number().int().min(1).max(1000))
    .default(100)
    .openapi({ param: { name: "limit", in: "query" }, example: 100 }),
});

export const StoredEventSchema = z
  .object({ seq: z.number().int(), x: z.number(), y: z.number(), t: z.number().int() })
  .openapi("CursorStoredEvent");

export const EventsPageSchema = z
  .object({
    items: z.array(StoredEventSchema),
    next_after: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Pass as `after` for the next page; null on the last page" }),
  })
  .openapi("CursorEventPage");

export const LiveQuery = z.object({
  token: z
    .string()
    .optional()
    .openapi({
      param: { name: "token", in: "query" },
      description: "The session token (or send it as a Bearer header)",
    }),
});

export const ArchiveListQuery = z.object({
  day: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional()
    .openapi({
      param: { name: "day", in: "query" },
      description: "The sessions' start day (UTC); default today",
      example: "2026-12-02",
    }),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, description: "From the previous page's `cursor`" }),
  limit: queryInt(z.number().int().min(1).max(1000))
    .default(100)
    .openapi({ param: { name: "limit", in: "query" }, example: 100 }),
});

export const ArchiveListSchema = z
  .object({
    items: z.array(
      z.object({
        key: z.string().openapi({ example: "cursor/2026/12/02/6f1c….ndjson.gz" }),
        session_id: z.string(),
        size: z.number().int().openapi({ description: "Bytes, compressed" }),
        uploaded: z.iso.datetime(),
        event_count: z.number().int(),
      }),
    ),
    cursor: z.string().nullable().openapi({ description: "Pass back as `cursor` for the next page; null on the last" }),
  })
  .openapi("CursorArchiveList");

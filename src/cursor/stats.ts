export const MAX_BUCKETS = 1_000;

export type StatsPlan =
  | { ok: true; from: number; to: number; fromSecond: number; toSecond: number }
  | { ok: false; path: "to" | "bucket"; detail: string; message: string };

/**
 * The range GET /stats answers, in epoch ms. Defaults cover everything stored: events may carry a `t` up to a minute
 * ahead of the server or before the session's start (CLOCK_SKEW_MS). Without `from`, the latest MAX_BUCKETS buckets
 * that fit.
 */
export function planStats(options: {
  bucketSeconds: number;
  from: number | null;
  to: number | null;
  createdAt: number;
  span: { first: number | null; last: number | null };
  now: number;
}): StatsPlan {
  const { bucketSeconds, span } = options;
  const to = options.to ?? Math.max(options.now, ((span.last ?? 0) + 1) * 1000);
  let from =
    options.from ?? Math.min(Math.floor(options.createdAt / 1000), span.first ?? Number.POSITIVE_INFINITY) * 1000;
  if (to <= from) return { ok: false, path: "to", detail: "`to` must be after `from`.", message: "must be after from" };
  const bucketsBetween = (fromMs: number, toMs: number) =>
    Math.floor((Math.ceil(toMs / 1000) - 1) / bucketSeconds) -
    Math.floor(Math.floor(fromMs / 1000) / bucketSeconds) +
    1;
  if (options.from === null && bucketsBetween(from, to) > MAX_BUCKETS) {
    from = (Math.floor((Math.ceil(to / 1000) - 1) / bucketSeconds) - MAX_BUCKETS + 1) * bucketSeconds * 1000;
  }
  const count = bucketsBetween(from, to);
  if (count > MAX_BUCKETS) {
    return {
      ok: false,
      path: "bucket",
      detail: `That range needs ${count} buckets; at most ${MAX_BUCKETS}. Use a larger bucket or a shorter range.`,
      message: `at most ${MAX_BUCKETS} buckets per request`,
    };
  }
  return { ok: true, from, to, fromSecond: Math.floor(from / 1000), toSecond: Math.ceil(to / 1000) };
}

/** One bucket of GET /stats, re-aggregated from the per-second rows; `bucket_start` in epoch seconds. */
export type BucketRow = {
  bucket_start: number;
  distance: number;
  peak_speed: number;
  event_count: number;
  start_x: number;
  start_y: number;
  end_x: number;
  end_y: number;
};

/**
 * One query re-aggregates the per-second rows into buckets aligned to the epoch: window functions give each bucket's
 * first start point and last end point alongside the sums. Four bound parameters, any range.
 */
const STATS_SQL = `
  SELECT DISTINCT b * CAST(?1 AS INTEGER) AS bucket_start,
    SUM(distance) OVER w AS distance,
    MAX(peak_speed) OVER w AS peak_speed,
    SUM(event_count) OVER w AS event_count,
    FIRST_VALUE(start_x) OVER w AS start_x,
    FIRST_VALUE(start_y) OVER w AS start_y,
    LAST_VALUE(end_x) OVER w AS end_x,
    LAST_VALUE(end_y) OVER w AS end_y
  FROM (SELECT second / CAST(?1 AS INTEGER) AS b, * FROM cursor_seconds WHERE session_id = ?2 AND second >= ?3 AND second < ?4)
  WINDOW w AS (PARTITION BY b ORDER BY second ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
  ORDER BY b`;

/** The buckets of one session with a second in [fromSecond, toSecond), oldest first; empty buckets are absent. */
export async function readBuckets(
  db: D1Database,
  sessionId: string,
  bucketSeconds: number,
  fromSecond: number,
  toSecond: number,
): Promise<BucketRow[]> {
  const { results } = await db.prepare(STATS_SQL).bind(bucketSeconds, sessionId, fromSecond, toSecond).all<BucketRow>();
  return results;
}

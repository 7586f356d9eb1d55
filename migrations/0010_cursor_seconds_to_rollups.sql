-- The per-second rows kept in D1 so far become 10-second rollups (the bucket the session objects now send), before
-- the raw tables are dropped. total_distance is the session's running distance at the bucket's end; last_t is the
-- last second of the bucket (the exact time of the last event was only in the raw table).
INSERT OR IGNORE INTO cursor_rollups
  (session_id, bucket_start, distance, peak_speed, event_count, start_x, start_y, end_x, end_y, last_seq,
   total_distance, last_t)
SELECT session_id, bucket_start, SUM(distance), MAX(peak_speed), SUM(event_count),
  MAX(CASE WHEN rn_first = 1 THEN start_x END), MAX(CASE WHEN rn_first = 1 THEN start_y END),
  MAX(CASE WHEN rn_last = 1 THEN end_x END), MAX(CASE WHEN rn_last = 1 THEN end_y END),
  MAX(last_seq), MAX(running), MAX(second) * 1000
FROM (
  SELECT *, (second / 10) * 10 AS bucket_start,
    ROW_NUMBER() OVER (PARTITION BY session_id, second / 10 ORDER BY second) AS rn_first,
    ROW_NUMBER() OVER (PARTITION BY session_id, second / 10 ORDER BY second DESC) AS rn_last,
    SUM(distance) OVER (PARTITION BY session_id ORDER BY second) AS running
  FROM cursor_seconds
)
GROUP BY session_id, bucket_start;

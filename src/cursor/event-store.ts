import { ByteWriter, type Cursor, concatBytes, decodePoints, encodePoints, endCursor, startCursor } from "./codec";
import type { Point, SecondAggregate, SequencedPoint } from "./kinematics";
import type { BucketRow } from "./stats";

/**
 * The session's raw events in its own SQLite: one row per second of event time, the points packed by the codec
 * (`points`), beside that second's figures (distance, peak speed, first and last point, the seq range, and the
 * session's running distance and last `t` at its end). Those figures answer /stats for any bucket size, the seq
 * range answers /events by keyset, and the 10-second rollups sent to D1 are sums over them.
 *
 * A second is rewritten while it is open (the next batch may add to it); once a later second exists it never
 * changes again, since event times never go backwards.
 */
export const EVENT_STORE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS seconds (
    second INTEGER PRIMARY KEY,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    distance REAL NOT NULL,
    peak_speed REAL NOT NULL,
    start_x REAL NOT NULL, start_y REAL NOT NULL, end_x REAL NOT NULL, end_y REAL NOT NULL,
    total_distance REAL NOT NULL,
    last_t INTEGER NOT NULL,
    points BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS seconds_last_seq ON seconds (last_seq);`;

export type SecondRow = {
  second: number;
  first_seq: number;
  last_seq: number;
  distance: number;
  peak_speed: number;
  start_x: number;
  start_y: number;
  end_x: number;
  end_y: number;
  total_distance: number;
  last_t: number;
};

/** A 10-second rollup (or any bucket) summed from second rows; `bucket_start` in epoch seconds. */
export type Rollup = SecondRow & { bucket_start: number; event_count: number };

export const ROLLUP_SECONDS = 10;

export class EventStore {
  /** The open second's packed points and the codec's place after them (null: read from SQLite when needed). */
  private open: { second: number; blob: Uint8Array; cursor: Cursor } | null = null;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(EVENT_STORE_SCHEMA);
  }

  /**
   * Writes the seconds a batch touched (the kinematics' aggregates after the batch) with their points. Call inside
   * the batch's transaction. `events` are the batch's points in order, `totals` the running distance after each
   * touched second's last event.
   */
  write(
    events: readonly Point[],
    seconds: readonly SecondAggregate[],
    distanceAfter: (second: number) => number,
  ): number {
    let i = 0;
    let rowsWritten = 0;
    for (const s of seconds) {
      const start = i;
      while (i < events.length && Math.floor(events[i]!.t / 1000) === s.second) i++;
      const points = events.slice(start, i);
      let base: { blob: Uint8Array; cursor: Cursor };
      if (start === 0 && s.event_count > points.length) base = this.openRow(s.second);
      else base = { blob: new Uint8Array(0), cursor: startCursor(s.second) };
      const w = new ByteWriter();
      const codecCursor = encodePoints(w, base.cursor, points);
      const blob = base.blob.length > 0 ? concatBytes(base.blob, w.bytes()) : w.bytes();
      const cursor = this.sql.exec(
        `INSERT INTO seconds (second, first_seq, last_seq, distance, peak_speed, start_x, start_y, end_x, end_y,
           total_distance, last_t, points)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (second) DO UPDATE SET last_seq = excluded.last_seq, distance = excluded.distance,
           peak_speed = excluded.peak_speed, end_x = excluded.end_x, end_y = excluded.end_y,
           total_distance = excluded.total_distance, last_t = excluded.last_t, points = excluded.points`,
        s.second,
        s.last_seq - s.event_count + 1,
        s.last_seq,
        s.distance,
        s.peak_speed,
        s.start_x,
        s.start_y,
        s.end_x,
        s.end_y,
        distanceAfter(s.second),
        points.at(-1)!.t,
        toBuffer(blob),
      );
      cursor.toArray();
      rowsWritten += cursor.rowsWritten;
      this.open = { second: s.second, blob, cursor: codecCursor };
    }
    return rowsWritten;
  }

  /** Forget the in-memory copy of the open row (a transaction that wrote it was rolled back). */
  reset(): void {
    this.open = null;
  }

  private openRow(second: number): { blob: Uint8Array; cursor: Cursor } {
    if (this.open?.second === second) return this.open;
    const row = this.sql
      .exec<{ points: ArrayBuffer }>("SELECT points FROM seconds WHERE second = ?", second)
      .toArray()[0];
    const blob = row ? new Uint8Array(row.points) : new Uint8Array(0);
    return { blob, cursor: blob.length > 0 ? endCursor(second, blob) : startCursor(second) };
  }

  /** Events with seq > after, at most `limit`, in seq order. */
  page(after: number, limit: number): SequencedPoint[] {
    const out: SequencedPoint[] = [];
    const rows = this.sql.exec<{ second: number; first_seq: number; points: ArrayBuffer }>(
      "SELECT second, first_seq, points FROM seconds WHERE last_seq > ? ORDER BY last_seq",
      after,
    );
    for (const row of rows) {
      const points = decodePoints(row.second, new Uint8Array(row.points));
      for (let i = 0; i < points.length; i++) {
        const seq = row.first_seq + i;
        if (seq <= after) continue;
        out.push({ seq, ...points[i]! });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** Every event in seq order, a second's row at a time (for the archive). */
  *all(): Generator<SequencedPoint[]> {
    for (const row of this.sql.exec<{ second: number; first_seq: number; points: ArrayBuffer }>(
      "SELECT second, first_seq, points FROM seconds ORDER BY second",
    )) {
      yield decodePoints(row.second, new Uint8Array(row.points)).map((p, i) => ({ seq: row.first_seq + i, ...p }));
    }
  }

  span(): { first: number | null; last: number | null } {
    return this.sql
      .exec<{ first: number | null; last: number | null }>(
        "SELECT MIN(second) AS first, MAX(second) AS last FROM seconds",
      )
      .one();
  }

  /** GET /stats: the per-second rows re-aggregated into buckets aligned to the epoch; empty buckets are absent. */
  buckets(bucketSeconds: number, fromSecond: number, toSecond: number): BucketRow[] {
    return this.sql
      .exec<BucketRow>(
        `SELECT DISTINCT b * CAST(?1 AS INTEGER) AS bucket_start,
           SUM(distance) OVER w AS distance,
           MAX(peak_speed) OVER w AS peak_speed,
           SUM(last_seq - first_seq + 1) OVER w AS event_count,
           FIRST_VALUE(start_x) OVER w AS start_x,
           FIRST_VALUE(start_y) OVER w AS start_y,
           LAST_VALUE(end_x) OVER w AS end_x,
           LAST_VALUE(end_y) OVER w AS end_y
         FROM (SELECT second / CAST(?1 AS INTEGER) AS b, * FROM seconds WHERE second >= ?2 AND second < ?3)
         WINDOW w AS (PARTITION BY b ORDER BY second ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
         ORDER BY b`,
        bucketSeconds,
        fromSecond,
        toSecond,
      )
      .toArray();
  }

  /**
   * The 10-second rollups of the (at most `limitBuckets` oldest) buckets holding a second with last_seq > afterSeq,
   * each summed over all of its seconds so far: a rollup is a whole bucket, never a delta, so applying it twice
   * changes nothing. Reads the index for the buckets, then only their seconds' figures (no points).
   */
  rollupsAfter(afterSeq: number, limitBuckets = 100): Rollup[] {
    const buckets = this.sql
      .exec<{ b: number }>(
        // Bound numbers arrive as REAL: the cast keeps the division an integer one.
        "SELECT second / CAST(?1 AS INTEGER) AS b FROM seconds WHERE last_seq > ?2 GROUP BY b ORDER BY b LIMIT ?3",
        ROLLUP_SECONDS,
        afterSeq,
        limitBuckets,
      )
      .toArray()
      .map((r) => r.b);
    if (buckets.length === 0) return [];
    const wanted = new Set(buckets);
    const rows = this.sql.exec<SecondRow>(
      `SELECT second, first_seq, last_seq, distance, peak_speed, start_x, start_y, end_x, end_y, total_distance, last_t
       FROM seconds WHERE second >= ? AND second < ? ORDER BY second`,
      buckets[0]! * ROLLUP_SECONDS,
      (buckets.at(-1)! + 1) * ROLLUP_SECONDS,
    );
    const out: Rollup[] = [];
    for (const row of rows) {
      const b = Math.floor(row.second / ROLLUP_SECONDS);
      if (!wanted.has(b)) continue;
      const current = out.at(-1);
      if (!current || current.bucket_start !== b * ROLLUP_SECONDS) {
        out.push({ ...row, bucket_start: b * ROLLUP_SECONDS, event_count: row.last_seq - row.first_seq + 1 });
        continue;
      }
      current.last_seq = row.last_seq;
      current.event_count += row.last_seq - row.first_seq + 1;
      current.distance += row.distance;
      current.peak_speed = Math.max(current.peak_speed, row.peak_speed);
      current.end_x = row.end_x;
      current.end_y = row.end_y;
      current.total_distance = row.total_distance;
      current.last_t = row.last_t;
    }
    return out;
  }

  /** Bytes the object's SQLite takes (pages in use, all tables). */
  databaseSize(): number {
    return this.sql.databaseSize;
  }
}

/** SQLite storage binds ArrayBuffers. */
function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

import { ByteWriter, type Cursor, concatBytes, decodePoints, encodePoints, endCursor, startCursor } from "./codec";
import { type Point, type SequencedPoint, segmentLength, sumBuckets } from "./kinematics";
import type { Bucket, Rollup } from "./protocol";

/**
 * The session's raw events in its own SQLite: one row per block of up to MAX_BLOCK_EVENTS consecutive events (or
 * MAX_BLOCK_BYTES of them packed), the points packed by the codec (`points`), beside what decoding the block needs on
 * its own: its first seq and time, the point before it and the running distance there. A block's cost in rows and
 * bytes is the same whether its events are a millisecond or an hour apart, so spreading events out buys nothing.
 *
 * The last block is rewritten while it fills (its bytes are kept in memory, so appending decodes nothing); every
 * earlier block never changes again. Blocks are keyed by first seq (/events pages by seq) and indexed by first time
 * (GET /stats and the rollups find a time range); both grow together, since event times never go backwards.
 * GET /stats and the 10-second rollups are sums over decoded events (`sumBuckets`).
 */
export const EVENT_STORE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS blocks (
    first_seq INTEGER PRIMARY KEY,
    first_t INTEGER NOT NULL,
    count INTEGER NOT NULL,
    prev_x REAL, prev_y REAL, prev_t INTEGER,
    distance_before REAL NOT NULL,
    points BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS blocks_first_t ON blocks (first_t);`;

export const MAX_BLOCK_EVENTS = 256;
/** Kept under a SQLite page, so rewriting the open block never spills into overflow pages. */
export const MAX_BLOCK_BYTES = 2048;
export const ROLLUP_SECONDS = 10;

type BlockRow = {
  first_seq: number;
  first_t: number;
  count: number;
  prev_x: number | null;
  prev_y: number | null;
  prev_t: number | null;
  distance_before: number;
  points: ArrayBuffer;
};

type Block = {
  firstSeq: number;
  firstT: number;
  count: number;
  prev: Point | null;
  distanceBefore: number;
  blob: Uint8Array;
  cursor: Cursor;
};

/** The blocks a batch writes (the open one continued, then new ones), planned before anything is written. */
export type Append = { blocks: (Block & { isNew: boolean })[]; bytes: number };

const BLOCK_COLUMNS = "first_seq, first_t, count, prev_x, prev_y, prev_t, distance_before, points";

export class EventStore {
  /** The last block as stored (null: read it from SQLite when needed). */
  private open: Block | null = null;

  constructor(private readonly sql: SqlStorage) {
    sql.exec(EVENT_STORE_SCHEMA);
  }

  /**
   * Packs a batch (events from `firstSeq`, continuing the path at `previous` with the running distance
   * `distanceBefore`) into blocks, without writing: the caller checks the bytes against its cap first.
   */
  plan(events: readonly Point[], firstSeq: number, previous: Point | null, distanceBefore: number): Append {
    const blocks: Append["blocks"] = [];
    let block: (Block & { isNew: boolean }) | null = null;
    const last = this.lastBlock();
    if (last && !full(last)) block = { ...last, isNew: false };
    let writer = new ByteWriter();
    let bytes = 0;
    let prev = previous;
    let total = distanceBefore;
    const close = () => {
      if (!block) return;
      const added = writer.bytes();
      bytes += added.length;
      blocks.push({ ...block, blob: block.blob.length > 0 ? concatBytes(block.blob, added) : added });
    };
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (!block || block.count >= MAX_BLOCK_EVENTS || block.blob.length + writer.length >= MAX_BLOCK_BYTES) {
        close();
        writer = new ByteWriter();
        block = {
          firstSeq: firstSeq + i,
          firstT: e.t,
          count: 0,
          prev,
          distanceBefore: total,
          blob: new Uint8Array(0),
          cursor: startCursor(e.t),
          isNew: true,
        };
      }
      block.cursor = encodePoints(writer, block.cursor, [e]);
      block.count += 1;
      if (prev) total += segmentLength(prev, e);
      prev = e;
    }
    close();
    return { blocks, bytes };
  }

  /** Writes a planned batch; call inside the batch's transaction. Returns the rows SQLite wrote. */
  write(append: Append): number {
    let rows = 0;
    for (const b of append.blocks) {
      const cursor = b.isNew
        ? this.sql.exec(
            `INSERT INTO blocks (${BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
            b.firstSeq,
            b.firstT,
            b.count,
            b.prev?.x ?? null,
            b.prev?.y ?? null,
            b.prev?.t ?? null,
            b.distanceBefore,
            toBuffer(b.blob),
          )
        : // first_t is not set again, so its index entry is not rewritten.
          this.sql.exec(
            "UPDATE blocks SET count = ?, points = ? WHERE first_seq = ?",
            b.count,
            toBuffer(b.blob),
            b.firstSeq,
          );
      cursor.toArray();
      rows += cursor.rowsWritten;
    }
    const last = append.blocks.at(-1);
    if (last) this.open = { ...last };
    return rows;
  }

  /** Forget the in-memory copy of the open block (a transaction that wrote it was rolled back). */
  reset(): void {
    this.open = null;
  }

  private lastBlock(): Block | null {
    if (this.open) return this.open;
    const row = this.sql
      .exec<BlockRow>(`SELECT ${BLOCK_COLUMNS} FROM blocks ORDER BY first_seq DESC LIMIT 1`)
      .toArray()[0];
    if (!row) return null;
    const blob = new Uint8Array(row.points);
    this.open = { ...blockOf(row), blob, cursor: endCursor(row.first_t, blob) };
    return this.open;
  }

  /** Blocks from the one holding `seq` on (or from the first), lazily, in seq order. */
  private blocksFromSeq(seq: number): Iterable<BlockRow> {
    return this.sql.exec<BlockRow>(
      `SELECT ${BLOCK_COLUMNS} FROM blocks
       WHERE first_seq >= coalesce((SELECT max(first_seq) FROM blocks WHERE first_seq <= ?), 0) ORDER BY first_seq`,
      seq,
    );
  }

  /** Blocks from the last one starting before `ms` on (every event at or after `ms` is in them), lazily. */
  private blocksFromTime(ms: number): Iterable<BlockRow> {
    return this.sql.exec<BlockRow>(
      `SELECT ${BLOCK_COLUMNS} FROM blocks WHERE first_seq >= coalesce(
         (SELECT first_seq FROM blocks WHERE first_t < ? ORDER BY first_t DESC, first_seq DESC LIMIT 1), 0)
       ORDER BY first_seq`,
      ms,
    );
  }

  /** Events with seq > after, at most `limit`, in seq order. */
  page(after: number, limit: number): SequencedPoint[] {
    const out: SequencedPoint[] = [];
    for (const e of events(this.blocksFromSeq(after + 1))) {
      if (e.seq <= after) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Every event in seq order, a block at a time (for the archive). */
  *all(): Generator<SequencedPoint[]> {
    for (const row of this.blocksFromSeq(0)) yield decodeBlock(row);
  }

  /** The time of the first stored event, or null. */
  firstT(): number | null {
    return (
      this.sql.exec<{ t: number }>("SELECT first_t AS t FROM blocks ORDER BY first_seq LIMIT 1").toArray()[0]?.t ?? null
    );
  }

  /** GET /stats: buckets of `bucketSeconds` between fromMs (inclusive) and toMs (exclusive); empty buckets absent. */
  buckets(bucketSeconds: number, fromMs: number, toMs: number): Bucket[] {
    const { blocks, previous, distanceBefore } = startOf(this.blocksFromTime(fromMs));
    return sumBuckets(events(blocks, toMs), { bucketSeconds, previous, distanceBefore, fromMs, toMs }).map(
      ({ last_seq: _s, total_distance: _d, last_t: _t, ...bucket }) => bucket,
    );
  }

  /**
   * The 10-second rollups of the (at most `maxBuckets` oldest) buckets holding an event with seq > afterSeq, each
   * summed over all of its events: a rollup is a whole bucket, never a delta, so applying it twice changes nothing.
   */
  rollupsAfter(afterSeq: number, maxBuckets: number): Rollup[] {
    const first = this.page(afterSeq, 1)[0];
    if (!first) return [];
    const fromMs = Math.floor(first.t / (ROLLUP_SECONDS * 1000)) * ROLLUP_SECONDS * 1000;
    const { blocks, previous, distanceBefore } = startOf(this.blocksFromTime(fromMs));
    return sumBuckets(events(blocks), { bucketSeconds: ROLLUP_SECONDS, previous, distanceBefore, fromMs, maxBuckets });
  }

  /** Bytes the object's SQLite takes (pages in use, all tables). */
  databaseSize(): number {
    return this.sql.databaseSize;
  }
}

function full(b: Block): boolean {
  return b.count >= MAX_BLOCK_EVENTS || b.blob.length >= MAX_BLOCK_BYTES;
}

function blockOf(row: BlockRow): Omit<Block, "blob" | "cursor"> {
  return {
    firstSeq: row.first_seq,
    firstT: row.first_t,
    count: row.count,
    prev: row.prev_t === null ? null : { x: row.prev_x!, y: row.prev_y!, t: row.prev_t },
    distanceBefore: row.distance_before,
  };
}

function decodeBlock(row: BlockRow): SequencedPoint[] {
  return decodePoints(row.first_t, new Uint8Array(row.points)).map((p, i) => ({ seq: row.first_seq + i, ...p }));
}

/** The first block's starting point and running distance, and every block (the first included) after it. */
function startOf(rows: Iterable<BlockRow>): {
  blocks: Iterable<BlockRow>;
  previous: Point | null;
  distanceBefore: number;
} {
  const iterator = rows[Symbol.iterator]();
  const head = iterator.next();
  if (head.done) return { blocks: [], previous: null, distanceBefore: 0 };
  const first = blockOf(head.value);
  const blocks = {
    *[Symbol.iterator]() {
      yield head.value;
      for (let next = iterator.next(); !next.done; next = iterator.next()) yield next.value;
    },
  };
  return { blocks, previous: first.prev, distanceBefore: first.distanceBefore };
}

/** The events of the blocks, lazily, stopping before the first block that starts at or after `untilMs`. */
function* events(rows: Iterable<BlockRow>, untilMs = Number.POSITIVE_INFINITY): Generator<SequencedPoint> {
  for (const row of rows) {
    if (row.first_t >= untilMs) return;
    yield* decodeBlock(row);
  }
}

/** SQLite storage binds ArrayBuffers. */
function toBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
}

import type { Point } from "./kinematics";

/**
 * The event codec: a run of consecutive events, packed for the object's SQLite (one row per block of events).
 *
 * Per point, three LEB128 varints: the time delta in ms from the previous point (the first from the block's first
 * time, so 0), then x and y as zigzag deltas in hundredths of a pixel from the previous point (the first from 0),
 * shifted left by one. A coordinate that hundredths cannot hold exactly (more decimals, or huge) is written as the
 * varint 1 followed by its 8-byte little-endian float64, so decoding always gives back the very number sent. At
 * 60 Hz a point is typically 4–6 bytes. Integer arithmetic only below 2^53: no 32-bit bit tricks.
 */

const SCALE = 100;
const ESCAPE = 1;
/** |hundredths| beyond this is escaped: deltas then stay far inside safe integers. */
const MAX_QUANT = 2 ** 40;

export class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  varint(value: number): void {
    this.room(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.length++] = v;
  }

  float64(value: number): void {
    this.room(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.length, 8).setFloat64(0, value, true);
    this.length += 8;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

class ByteReader {
  offset = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.offset >= this.buf.length) throw new Error("truncated varint");
      const byte = this.buf[this.offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  float64(): number {
    if (this.offset + 8 > this.buf.length) throw new Error("truncated float");
    const value = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).getFloat64(0, true);
    this.offset += 8;
    return value;
  }
}

const zigzag = (n: number) => (n >= 0 ? n * 2 : -n * 2 - 1);
const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/** The hundredths a coordinate is stored as, or null when they would not give the same number back. */
function quantize(v: number): number | null {
  const q = Math.round(v * SCALE);
  // -0 is escaped too: a delta cannot carry its sign.
  return Math.abs(q) <= MAX_QUANT && q / SCALE === v && !Object.is(v, -0) ? q : null;
}

/** Where the encoder stands after a point: decoding continues from the same place. */
export type Cursor = { t: number; qx: number; qy: number };

/** Where a block starts: its first event's time. */
export function startCursor(t0: number): Cursor {
  return { t: t0, qx: 0, qy: 0 };
}

function writeCoordinate(w: ByteWriter, v: number, previous: number): number {
  const q = quantize(v);
  if (q === null) {
    w.varint(ESCAPE);
    w.float64(v);
    return Math.round(v * SCALE);
  }
  w.varint(zigzag(q - previous) * 2);
  return q;
}

function readCoordinate(r: ByteReader, previous: number): [value: number, q: number] {
  const code = r.varint();
  if (code === ESCAPE) {
    const v = r.float64();
    return [v, Math.round(v * SCALE)];
  }
  const q = previous + unzigzag(code / 2);
  return [q / SCALE, q];
}

/**
 * Appends points (time-ordered, none before the cursor) to `w`, moving the cursor along. The cursor of the open
 * block is kept by the object, so a batch that continues a block appends without decoding what is there.
 */
export function encodePoints(w: ByteWriter, cursor: Cursor, points: readonly Point[]): Cursor {
  let { t, qx, qy } = cursor;
  for (const p of points) {
    if (p.t < t) throw new Error("points must be time-ordered");
    w.varint(p.t - t);
    t = p.t;
    qx = writeCoordinate(w, p.x, qx);
    qy = writeCoordinate(w, p.y, qy);
  }
  return { t, qx, qy };
}

/** Every point of a block, in order. */
export function decodePoints(t0: number, blob: Uint8Array): Point[] {
  const r = new ByteReader(blob);
  const out: Point[] = [];
  let { t, qx, qy } = startCursor(t0);
  while (!r.done) {
    t += r.varint();
    const [x, nx] = readCoordinate(r, qx);
    const [y, ny] = readCoordinate(r, qy);
    qx = nx;
    qy = ny;
    out.push({ x, y, t });
  }
  return out;
}

/** The cursor after the last point of a block (to continue it after an eviction). */
export function endCursor(t0: number, blob: Uint8Array): Cursor {
  const points = decodePoints(t0, blob);
  const last = points.at(-1);
  if (!last) return startCursor(t0);
  return { t: last.t, qx: Math.round(last.x * SCALE), qy: Math.round(last.y * SCALE) };
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

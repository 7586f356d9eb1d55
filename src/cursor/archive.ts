import { utcDay } from "../lib/time";
import type { EventStore } from "./event-store";

/**
 * The archive: at the end of a session its raw events go to R2 as one gzip-compressed NDJSON object, for readers
 * outside this app (any language reads gzip and JSON lines). Key: `cursor/YYYY/MM/DD/<session id>.ndjson.gz`, the
 * date being the session's start (UTC). Each line is one event, in seq order: `{"seq":0,"x":412.5,"y":230,"t":1767225600123}`
 * (`t` epoch ms, `x`/`y` CSS px). The object's custom metadata carries session_id, created_at, ended_at and
 * event_count (as strings), so a listing tells what each archive holds without reading it.
 */
export const ARCHIVE_PREFIX = "cursor/";
/**
 * What an event takes in the archive at most: about 12 bytes for a pointer, 26 for random float64 coordinates (the
 * worst that packs, tested). With the session's event and byte caps this bounds an archive (docs/hardening.md).
 */
export const ARCHIVE_MAX_BYTES_PER_EVENT = 28;

/** The R2 prefix of one UTC day's archives (`day` as YYYY-MM-DD): `cursor/YYYY/MM/DD/`. */
export function archiveDayPrefix(day: string): string {
  return `${ARCHIVE_PREFIX}${day.replaceAll("-", "/")}/`;
}

export function archiveKey(sessionId: string, createdAt: number): string {
  return `${archiveDayPrefix(utcDay(createdAt))}${sessionId}.ndjson.gz`;
}

export type ArchiveMeta = { session_id: string; created_at: number; ended_at: number; event_count: number };

/** Gzips the store's events as NDJSON, a second's row at a time, and writes one R2 object. */
export async function writeArchive(
  bucket: R2Bucket,
  store: EventStore,
  meta: ArchiveMeta,
): Promise<{ key: string; bytes: number }> {
  const gzip = new CompressionStream("gzip");
  const writer = gzip.writable.getWriter();
  const encoder = new TextEncoder();
  const compressed = new Response(gzip.readable).arrayBuffer();
  let lines = "";
  for (const events of store.all()) {
    for (const e of events) lines += `{"seq":${e.seq},"x":${e.x},"y":${e.y},"t":${e.t}}\n`;
    if (lines.length >= 64 * 1024) {
      await writer.write(encoder.encode(lines));
      lines = "";
    }
  }
  if (lines) await writer.write(encoder.encode(lines));
  await writer.close();
  const body = await compressed;
  const key = archiveKey(meta.session_id, meta.created_at);
  await bucket.put(key, body, {
    httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" },
    customMetadata: {
      session_id: meta.session_id,
      created_at: String(meta.created_at),
      ended_at: String(meta.ended_at),
      event_count: String(meta.event_count),
    },
  });
  return { key, bytes: body.byteLength };
}

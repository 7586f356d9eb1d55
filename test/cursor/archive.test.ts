import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ARCHIVE_MAX_BYTES_PER_EVENT, archiveKey, writeArchive } from "../../src/cursor/archive";
import { type CursorSession, cursorSessionStub, sessionParts } from "../../src/cursor/cursor-session";
import { settingsWith } from "./helpers";

describe("the archive in R2", () => {
  it("is keyed by the session's start day", () => {
    expect(archiveKey("abc", Date.UTC(2026, 11, 2, 23, 59))).toBe("cursor/2026/12/02/abc.ndjson.gz");
  });

  it(`takes at most ${ARCHIVE_MAX_BYTES_PER_EVENT} bytes an event, even for coordinates no pointer sends`, async () => {
    const id = crypto.randomUUID();
    const t0 = Date.now() - 3_600_000;
    await runInDurableObject(cursorSessionStub(env, id), async (_i: CursorSession, state) => {
      const parts = sessionParts(state, { queue: env.TELEMETRY_QUEUE, archive: env.ARCHIVE, settings: settingsWith() });
      parts.store.init(id, t0);
      // Full float64 coordinates, random: what packs and compresses worst.
      let n = 0;
      for (let b = 0; b < 4; b++) {
        const events = Array.from({ length: 1000 }, (_, i) => ({
          x: Math.random() * 200_000 - 100_000,
          y: Math.random() * 200_000 - 100_000,
          t: t0 + (b * 1000 + i) * 700,
        }));
        expect((await parts.ingest(events, events.at(-1)!.t)).ok).toBe(true);
        n += events.length;
      }
      const { key, bytes } = await writeArchive(env.ARCHIVE, parts.store.events, {
        session_id: id,
        created_at: t0,
        ended_at: Date.now(),
        event_count: n,
      });
      expect(key).toBe(archiveKey(id, t0));
      expect((await env.ARCHIVE.head(key))?.size).toBe(bytes);
      console.log(`CURSOR_FIGURE archive bytes/event (random float64) ${(bytes / n).toFixed(1)}`);
      expect(bytes / n).toBeLessThanOrEqual(ARCHIVE_MAX_BYTES_PER_EVENT);
    });
  });
});

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_SESSIONS_PER_HOUR } from "../../../src/routes/cursor/cursor.queries";
import { api, expectProblem } from "../../helpers";

const sessions = async () =>
  (await env.DB.prepare("SELECT count(*) AS n FROM cursor_sessions").first<{ n: number }>())!.n;

const create = () => api("/cursor/sessions", { method: "POST", json: { viewport: { width: 10, height: 10 } } });

describe("the global budget of sessions", () => {
  it(`starts at most ${MAX_SESSIONS_PER_HOUR} sessions in any hour, from all clients; refuses with 429, storing nothing`, async () => {
    // Sessions already started this hour (their rows are what the budget counts), one short of it.
    const now = Date.now();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
       INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at)
       SELECT 'seeded-' || i, 1, 1, ?2 - i * 1000 FROM n`,
    )
      .bind(MAX_SESSIONS_PER_HOUR, now - 60_000)
      .run();
    expect(await sessions()).toBe(MAX_SESSIONS_PER_HOUR - 1);
    expect((await create()).status).toBe(201);
    const res = await create();
    expect(res.headers.get("retry-after")).toBe("60");
    const refused = await expectProblem(res, 429);
    expect(refused.detail).toMatch(/try again later/);
    expect(await sessions()).toBe(MAX_SESSIONS_PER_HOUR);
    // An hour on, the oldest have left the window and room is made.
    await env.DB.prepare("UPDATE cursor_sessions SET created_at = created_at - 3600000 WHERE id LIKE 'seeded-%'").run();
    expect((await create()).status).toBe(201);
  });
});
